import Foundation
import Logging
import Reactor

/// Launch: spawn Chromium on the DevTools pipe, find and attach the page (flatten mode), prepare
/// it (bridge binding, preload script, interception), navigate; plus the crash and exit paths.
extension BrowserLink {
    /// The binding WhatsApp Web's page calls with `JSON.stringify({type, data})`.
    static let bindingName = "__openwaEmit"

    func launch() throws {
        teardown()
        let command = try Spawn.pipe(nonBlockingRead: false, nonBlockingWrite: true)
        let response: (read: CInt, write: CInt)
        do {
            response = try Spawn.pipe(nonBlockingRead: true, nonBlockingWrite: false)
        } catch {
            PipeIO.close(command.read)
            PipeIO.close(command.write)
            throw error
        }
        let generation = self.generation
        let child: ChildProcess
        do {
            child = try ChildProcess(
                reactor: reactor, path: configuration.executable,
                arguments: configuration.arguments(profileDirectory: profile.directory),
                environment: Self.childEnvironment(), descriptors: [3: command.read, 4: response.write]
            ) { [weak self] status in
                guard let self, self.generation == generation else { return }
                self.browserExited(status)
            }
        } catch {
            for fd in [command.read, command.write, response.read, response.write] { PipeIO.close(fd) }
            throw error
        }
        // The child holds its ends now; ours must go, or we never see end of file.
        PipeIO.close(command.read)
        PipeIO.close(response.write)
        process = child
        let connection = try CDPConnection(
            reactor: reactor, commandFD: command.write, responseFD: response.read,
            maxMessageBytes: configuration.maxMessageBytes, logger: logger)
        self.connection = connection
        connection.onEvent = { [weak self] event in
            guard let self, self.generation == generation else { return }
            self.received(event)
        }
        connection.onClose = { [weak self] error in
            guard let self, self.generation == generation else { return }
            self.pipeClosed(error)
        }
        phase = .launching
        logger.debug("browser launched", metadata: ["browser.pid": "\(child.pid)"])
        loadTimer = reactor.schedule(afterMilliseconds: configuration.loadTimeoutMilliseconds) { [weak self] in
            guard let self, self.generation == generation else { return }
            self.loadTimer = nil
            self.linkLost("WhatsApp Web did not load in time", relaunch: true)
        }
        attachPage(generation)
    }

    /// The variables Chromium may see. The gateway's own environment holds secrets (API and
    /// database keys), which a browser running remote code has no business inheriting.
    static let inheritedVariables: Set<String> = [
        "PATH", "HOME", "USER", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME", "FONTCONFIG_PATH", "FONTCONFIG_FILE", "http_proxy", "https_proxy", "no_proxy",
    ]

    static func childEnvironment() -> [String] {
        ProcessInfo.processInfo.environment.filter { inheritedVariables.contains($0.key) }.map { "\($0.key)=\($0.value)" }
    }

    private func attachPage(_ generation: Int) {
        command("Target.setDiscoverTargets", ["discover": true], generation) { link, _ in
            link.command("Target.getTargets", [:], generation) { link, result in
                let page = result["targetInfos"]?.arrayValue?.first { $0["type"]?.stringValue == "page" }
                guard let targetID = page?["targetId"]?.stringValue else {
                    return link.linkLost("the browser has no page", relaunch: true)
                }
                link.targetID = targetID
                link.command("Target.attachToTarget", ["targetId": .string(targetID), "flatten": true], generation) { link, result in
                    guard let session = result["sessionId"]?.stringValue else {
                        return link.linkLost("attaching the page failed", relaunch: true)
                    }
                    link.pageSession = session
                    link.preparePage(session, generation)
                }
            }
        }
    }

    private func preparePage(_ session: String, _ generation: Int) {
        var steps: [(String, JSONValue)] = [
            ("Page.enable", [:]), ("Runtime.enable", [:]), ("Inspector.enable", [:]),
            ("Network.setUserAgentOverride", ["userAgent": .string(configuration.userAgent)]),
            ("Runtime.addBinding", ["name": .string(Self.bindingName)]),
            ("Page.addScriptToEvaluateOnNewDocument", ["source": .string(BrowserBridgeScript.source)]),
        ]
        if configuration.blockOtherRequests {
            steps.append(("Fetch.enable", ["patterns": [["urlPattern": "*", "requestStage": "Request"]]]))
        } else if configuration.pinnedHTML != nil {
            // Documents of WA Web's origin only: its scripts and media must not each make a
            // round trip through the pipe.
            let pattern: JSONValue = ["urlPattern": .string(configuration.url + "*"), "resourceType": "Document", "requestStage": "Request"]
            steps.append(("Fetch.enable", ["patterns": [pattern]]))
        }
        runSteps(steps[...], session: session, generation) { link in link.navigate() }
    }

    private func runSteps(
        _ steps: ArraySlice<(String, JSONValue)>, session: String, _ generation: Int, then: @escaping (BrowserLink) -> Void
    ) {
        guard let (method, params) = steps.first else { return then(self) }
        command(method, params, session: session, generation) { link, _ in
            link.runSteps(steps.dropFirst(), session: session, generation, then: then)
        }
    }

    /// Loads WhatsApp Web in the page. The reply to `Page.navigate` arrives only after the
    /// document request was answered, so interception runs from events, never after this reply.
    func navigate() {
        guard let session = pageSession else { return }
        phase = .loading
        connection?.send(
            "Page.navigate", ["url": .string(configuration.url), "referrer": "https://whatsapp.com/"], session: session,
            timeoutMilliseconds: configuration.loadTimeoutMilliseconds
        ) { _ in }
    }

    /// Recovers a crashed renderer: navigating again brings a fresh renderer (and answers the
    /// commands the crash left hanging with errors, which we already failed).
    func reloadPage() {
        pageCrashed = false
        let generation = self.generation
        cancel(&loadTimer)
        loadTimer = reactor.schedule(afterMilliseconds: configuration.loadTimeoutMilliseconds) { [weak self] in
            guard let self, self.generation == generation else { return }
            self.loadTimer = nil
            self.linkLost("WhatsApp Web did not load in time", relaunch: true)
        }
        navigate()
    }

    /// Sends a setup command; failures (other than on a dead link) end this browser.
    private func command(
        _ method: String, _ params: JSONValue, session: String? = nil, _ generation: Int,
        then: @escaping (BrowserLink, JSONValue) -> Void
    ) {
        guard let connection else { return }
        connection.send(method, params, session: session, timeoutMilliseconds: configuration.commandTimeoutMilliseconds) {
            [weak self] result in
            guard let self, self.generation == generation else { return }
            switch result {
            case .success(let value): then(self, value)
            case .failure(let error): self.linkLost("\(method) failed: \(error)", relaunch: true)
            }
        }
    }

    // MARK: - Events

    private func received(_ event: CDPEvent) {
        logger.trace("cdp event", metadata: ["cdp.method": "\(event.method)", "cdp.session": "\(event.sessionID ?? "-")", "cdp.params": "\(JSONWriter.string(event.params).prefix(300))"])
        switch event.method {
        case "Runtime.bindingCalled" where event.sessionID == pageSession:
            guard event.params["name"]?.stringValue == Self.bindingName, let payload = event.params["payload"]?.stringValue
            else { return }
            bridgeEvent(payload)
        case "Fetch.requestPaused" where event.sessionID == pageSession:
            requestPaused(event.params)
        case "Inspector.targetCrashed" where event.sessionID == pageSession:
            rendererCrashed()
        case "Target.targetCrashed" where event.params["targetId"]?.stringValue == targetID:
            rendererCrashed()
        case "Target.detachedFromTarget" where event.params["sessionId"]?.stringValue == pageSession:
            logger.debug("page detached", metadata: ["cdp.params": "\(JSONWriter.string(event.params))"])
            linkLost("the page went away", relaunch: true)
        case "Page.frameNavigated" where event.sessionID == pageSession:
            let frame = event.params["frame"]
            if frame?["parentId"] == nil, frame?["url"]?.stringValue?.contains("post_logout=1") == true {
                loggedOutByPage()
            }
        default:
            break
        }
    }

    /// Answers the document request with the pinned HTML; other requests go on, or fail when
    /// the configuration blocks them (offline tests).
    private func requestPaused(_ params: JSONValue) {
        guard let requestID = params["requestId"]?.stringValue, let session = pageSession else { return }
        let url = params["request"]?["url"]?.stringValue ?? ""
        let isDocument = params["resourceType"]?.stringValue == "Document"
        let timeout = configuration.commandTimeoutMilliseconds
        if let html = configuration.pinnedHTML, isDocument, Self.sameDocument(url, configuration.url) {
            let headers: JSONValue = [
                ["name": "Content-Type", "value": "text/html; charset=utf-8"], ["name": "Cache-Control", "value": "no-store"],
            ]
            connection?.send(
                "Fetch.fulfillRequest",
                ["requestId": .string(requestID), "responseCode": 200, "responseHeaders": headers, "body": .string(Data(html).base64EncodedString())],
                session: session, timeoutMilliseconds: timeout) { _ in }
        } else if configuration.blockOtherRequests {
            connection?.send(
                "Fetch.failRequest", ["requestId": .string(requestID), "errorReason": "BlockedByClient"], session: session,
                timeoutMilliseconds: timeout) { _ in }
        } else {
            connection?.send("Fetch.continueRequest", ["requestId": .string(requestID)], session: session, timeoutMilliseconds: timeout) { _ in }
        }
    }

    /// `https://web.whatsapp.com/` and `https://web.whatsapp.com/?post_logout=1` are one document.
    static func sameDocument(_ url: String, _ base: String) -> Bool {
        func strip(_ text: String) -> Substring { text.prefix { $0 != "?" && $0 != "#" } }
        return strip(url) == strip(base)
    }

    /// The page's renderer died. Its pending commands would never be answered: fail them now,
    /// then reload per the reconnect rules.
    private func rendererCrashed() {
        guard !pageCrashed else { return }  // both crash events arrive
        pageCrashed = true
        connection?.failPending(session: pageSession, .protocolViolation("the page's renderer crashed"))
        linkLost("the page's renderer crashed", relaunch: false)
    }

    private func pipeClosed(_ error: ReactorError?) {
        // The process watcher reports the exit status; this only covers a pipe that broke alone.
        guard wantRunning else { return }
        if process?.isRunning == true { linkLost("the DevTools pipe closed", relaunch: true) }
    }

    private func browserExited(_ status: ExitStatus) {
        logger.debug("browser exited", metadata: ["browser.status": "\(status)"])
        if !stopWaiters.isEmpty { return finishStop() }
        guard wantRunning else { return teardown() }
        var reason = "the browser exited (\(status))"
        if case .exited(21) = status { reason += ": the profile is in use by another browser" }
        if let line = process?.recentOutput.last(where: { $0.contains("ERROR") || $0.contains("FATAL") }) {
            reason += ": \(line)"
        }
        linkLost(reason, relaunch: true)
    }
}
