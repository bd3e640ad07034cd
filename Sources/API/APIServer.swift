import Engines
import Logging
import Reactor
import Synchronization

/// The HTTP responder of the gateway: request ids, routing, authentication, handlers, error
/// mapping and the access log. Runs on the reactor thread; handlers that await run as tasks on
/// the reactor's executor.
package final class APIServer: HTTPResponder, Sendable {
    package struct Options: Sendable {
        /// Field-level 400 messages (`VALIDATION_ERROR_DETAIL`).
        package var validationDetail: Bool
        package var clientAddresses: ClientAddressResolver
        /// The HTTP throttlers (reference 1.4); nil turns rate limiting off.
        package var rateLimiter: RateLimiter?
        /// Request counts and latencies for `GET /api/metrics`; nil records nothing.
        package var metrics: HTTPMetrics?
        /// Where auth failures and refused requests are audited; nil audits nothing.
        package var audit: AuditService?

        package init(
            validationDetail: Bool = true, clientAddresses: ClientAddressResolver = ClientAddressResolver(trustedProxies: []),
            rateLimiter: RateLimiter? = nil, metrics: HTTPMetrics? = nil, audit: AuditService? = nil
        ) {
            self.validationDetail = validationDetail
            self.clientAddresses = clientAddresses
            self.rateLimiter = rateLimiter
            self.metrics = metrics
            self.audit = audit
        }
    }

    private let router: Router
    private let auth: AuthGuard
    private let options: Options
    private let handle: ReactorHandle
    private let logger: Logger
    private let requestCounter = Atomic<UInt64>(0)
    private let requestIDPrefix: String

    package init(router: Router, auth: AuthGuard, options: Options, handle: ReactorHandle, logger: Logger) {
        self.router = router
        self.auth = auth
        self.options = options
        self.handle = handle
        self.logger = logger
        self.requestIDPrefix = Crypto.hex((try? Crypto.randomBytes(4)) ?? [0, 0, 0, 0])
    }

    package func bodyHandling(for head: HTTPRequestHead) -> HTTPBodyHandling {
        guard case .matched(let route, _) = router.resolve(method: head.method, path: head.path), route.takesUploads else {
            return .collect
        }
        return .multipartForm
    }

    package func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        let requestID = makeRequestID(request.head.headers["x-request-id"])
        let clientIP = options.clientAddresses.clientIP(
            peer: request.remoteAddress, forwardedFor: request.head.headers["x-forwarded-for"])
        // The access log and the metrics are the only readers of the duration: skip the clock
        // when both are off.
        let logsAccess = logger.logLevel <= .info
        let metrics = options.metrics
        let started = logsAccess || metrics != nil ? MonotonicTime.nanoseconds() : 0
        let resolved = router.resolve(method: request.head.method, path: request.head.path)
        let routeLabel: String
        if case .matched(let route, _) = resolved { routeLabel = route.pattern } else { routeLabel = HTTPMetrics.unmatchedRoute }
        let finish: @Sendable (HTTPResponse) -> Void = { [logger] response in
            var response = response
            response.headers.add("x-request-id", requestID)
            if let metrics {
                let seconds = Double(MonotonicTime.nanoseconds() - started) / 1e9
                metrics.observe(
                    method: Self.methodLabel(request.head.method), route: routeLabel, status: response.status, seconds: seconds)
            }
            guard logsAccess else { return sink.send(response) }
            let micros = (MonotonicTime.nanoseconds() - started) / 1_000
            logger.info(
                "request",
                metadata: [
                    "http.method": "\(request.head.method)", "http.path": "\(request.head.path)",
                    "http.status": "\(response.status)", "http.duration_us": "\(micros)", "request.id": "\(requestID)",
                    "client.ip": "\(clientIP)",
                ])
            sink.send(response)
        }

        let path = request.head.path
        guard let decodedPath = path.removingPercentEncodingStrict() else {
            return finish(errorResponse(.badRequest("Invalid characters in request path")))
        }
        switch resolved {
        case .notFound:
            finish(errorResponse(.notFound("Cannot \(request.head.method) \(decodedPath)")))
        case .methodNotAllowed(let allowed):
            var error = APIError(status: 405, message: .string("Method \(request.head.method) not allowed for \(decodedPath)"))
            error.headers.add("allow", allowed.joined(separator: ", "))
            finish(errorResponse(error))
        case .matched(let route, let parameters):
            let context = APIContext(
                request: request, parameters: parameters, requestID: requestID, clientIP: clientIP, apiKey: nil)
            throttle(route, context, finish: finish)
        }
    }

    /// The throttlers run before authentication, so a flood of bad keys is refused as cheaply
    /// as any other flood. In-memory counts answer in this tick; shared (Redis) counts are
    /// awaited in a task on the reactor's executor.
    private func throttle(_ route: Route, _ context: APIContext, finish: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let limiter = options.rateLimiter, !RateLimiter.isExempt(route) else { return run(route, context, finish: finish) }
        let key = RateLimiter.key(route: route, clientIP: context.clientIP)
        if let verdict = limiter.checkNow(key: key) { return proceed(verdict, route, context, finish: finish) }
        Task(executorPreference: handle) {
            let verdict = await limiter.check(key: key)
            self.proceed(verdict, route, context, finish: finish)
        }
    }

    private func proceed(
        _ verdict: RateLimitVerdict, _ route: Route, _ context: APIContext, finish: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let headers = verdict.headers
        let finishWithHeaders: @Sendable (HTTPResponse) -> Void = { response in
            var response = response
            for (name, value) in headers { response.headers.add(name, value) }
            finish(response)
        }
        guard let window = verdict.exceeded else { return run(route, context, finish: finishWithHeaders) }
        // Sampled: a client hammering a route writes one row a minute, not one per request.
        options.audit?.recordSampled(
            context.auditRecord(
                "rate_limit_exceeded", severity: .warn, statusCode: 429,
                metadata: [("throttler", .string(window.name)), ("limit", .number(Double(window.limit))),
                           ("ttlMs", .number(Double(window.ttlMilliseconds)))]),
            sampleKey: "rate_limit_exceeded|\(ClientNetwork.throttleKey(context.clientIP))", perMinute: 1)
        finishWithHeaders(errorResponse(APIError(status: 429, message: "ThrottlerException: Too Many Requests")))
    }

    /// Methods outside the standard set share one label, so a client cannot mint label values.
    private static func methodLabel(_ method: String) -> String {
        switch method {
        case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS": return method
        default: return "OTHER"
        }
    }

    private func run(_ route: Route, _ context: APIContext, finish: @escaping @Sendable (HTTPResponse) -> Void) {
        var context = context
        let presented = AuthGuard.presentedKey(context.request.head.headers)
        // Fast path: no key needed, or the verdict is cached -> answer in this tick.
        switch route.access {
        case .open:
            return execute(route, context, finish: finish)
        case .openWithOptionalKey:
            if presented == nil { return execute(route, context, finish: finish) }
        case .key:
            guard presented != nil else { return finish(errorResponse(.unauthorized("API key is required"))) }
        }
        if let presented, let cached = auth.keys.authenticateCached(presented) {
            do {
                context.apiKey = try admit(cached, route: route, context: context)
            } catch {
                return finish(errorResponse(error))
            }
            return execute(route, context, finish: finish)
        }
        let auth = self.auth
        let validationDetail = options.validationDetail
        Task(executorPreference: handle) {
            do {
                let verdict = try await auth.keys.authenticate(presented ?? "")
                context.apiKey = try self.admit(verdict, route: route, context: context)
            } catch {
                return finish(self.mapError(error, requestID: context.requestID, validationDetail: validationDetail))
            }
            self.execute(route, context, finish: finish)
        }
    }

    /// Turns a verdict into the key to use, or the 401/403 OpenWA gives.
    private func admit(_ verdict: Result<ApiKey, ApiKeyRefusal>, route: Route, context: APIContext) throws(APIError) -> ApiKey? {
        switch verdict {
        case .failure(let refusal):
            auditAuthFailure(refusal, context: context)
            // A bad key on a route that does not need one is ignored, as OpenWA's health does.
            if case .openWithOptionalKey = route.access { return nil }
            throw .unauthorized(refusal.message)
        case .success(let key):
            if case .openWithOptionalKey = route.access { return key }
            try AuthGuard.authorize(key, access: route.access, clientIP: context.clientIP, parameters: context.parameters)
            auth.keys.recordUse(of: key)
            return key
        }
    }

    /// `api_key_auth_failed`, at most 10 rows per client address and minute: the table must
    /// not become the amplifier of a key-guessing attack.
    private func auditAuthFailure(_ refusal: ApiKeyRefusal, context: APIContext) {
        guard let audit = options.audit else { return }
        audit.recordSampled(
            context.auditRecord(
                "api_key_auth_failed", severity: .warn, statusCode: 401, metadata: [("reason", .string("\(refusal)"))],
                errorMessage: refusal.message),
            sampleKey: "api_key_auth_failed|\(ClientNetwork.throttleKey(context.clientIP))", perMinute: 10)
    }

    private func execute(_ route: Route, _ context: APIContext, finish: @escaping @Sendable (HTTPResponse) -> Void) {
        let validationDetail = options.validationDetail
        switch route.handler {
        case .immediate(let body):
            do {
                finish(render(try body(context)))
            } catch {
                finish(mapError(error, requestID: context.requestID, validationDetail: validationDetail))
            }
        case .task(let body):
            Task(executorPreference: handle) {
                do {
                    finish(self.render(try await body(context)))
                } catch {
                    finish(self.mapError(error, requestID: context.requestID, validationDetail: validationDetail))
                }
            }
        }
    }

    private func render(_ response: APIResponse) -> HTTPResponse {
        var headers = response.headers
        if let file = response.bodyFile {
            var streamed = HTTPResponse(status: response.status, headers: headers)
            streamed.bodyFile = file
            return streamed
        }
        if let raw = response.rawBody { return HTTPResponse(status: response.status, headers: headers, body: raw) }
        guard let body = response.body else { return HTTPResponse(status: response.status, headers: headers) }
        headers.replaceOrAdd("content-type", "application/json; charset=utf-8")
        return HTTPResponse(status: response.status, headers: headers, body: JSONWriter.bytes(body))
    }

    private func errorResponse(_ error: APIError) -> HTTPResponse {
        error.response(validationDetail: options.validationDetail)
    }

    /// Domain errors map to their statuses; anything unexpected is a 500 that names the
    /// request id and nothing internal (the detail goes to the log).
    private func mapError(_ error: any Error, requestID: String, validationDetail: Bool) -> HTTPResponse {
        if let error = error as? APIError { return error.response(validationDetail: validationDetail) }
        if let error = error as? EngineError {
            let status: Int
            switch error.kind {
            case .notFound: status = 404
            case .conflict: status = 409
            case .invalid: status = 400
            case .forbidden: status = 403
            case .unavailable: status = 503
            case .notSupported: status = 501
            case .tooLarge: status = 413
            case .tooMany: status = 429
            }
            return APIError(status: status, message: .string(error.message)).response(validationDetail: validationDetail)
        }
        logger.error("unhandled error", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
        return APIError.internal(requestID: requestID).response(validationDetail: validationDetail)
    }

    private func makeRequestID(_ supplied: String?) -> String {
        // A caller's id is echoed when it is short and printable, so it can correlate logs.
        if let supplied, !supplied.isEmpty, supplied.utf8.count <= 128,
            supplied.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return supplied
        }
        let serial = requestCounter.add(1, ordering: .relaxed).newValue
        return "\(requestIDPrefix)-\(serial)"
    }
}
