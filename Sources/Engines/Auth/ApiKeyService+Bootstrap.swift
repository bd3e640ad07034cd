import Foundation

extension ApiKeyService {
    /// What first boot did about the admin key.
    package enum BootstrapOutcome: Sendable, Equatable {
        /// Keys already existed; nothing was created.
        case existing(count: Int)
        /// "Default Admin Key" was created; `plaintext` is shown to the operator once.
        case created(plaintext: String, source: Source)
    }

    package enum Source: String, Sendable {
        case masterKey = "API_MASTER_KEY"
        case devKey = "ALLOW_DEV_API_KEY"
        case generated
    }

    /// When no key exists, creates OpenWA's first admin key: `API_MASTER_KEY` verbatim (trimmed)
    /// if set, else `dev-admin-key` when dev keys are allowed, else a random `owa_k1_` key.
    /// The plaintext is also written to the bootstrap key file with mode 0600.
    package func bootstrapIfEmpty(masterKey: String?, allowDevKey: Bool) async throws -> BootstrapOutcome {
        let existing = try await list().count
        guard existing == 0 else { return .existing(count: existing) }
        let trimmed = masterKey?.trimmingCharacters(in: .whitespacesAndNewlines)
        let source: Source
        let plaintext: String
        if let trimmed, !trimmed.isEmpty {
            (source, plaintext) = (.masterKey, trimmed)
        } else if allowDevKey {
            (source, plaintext) = (.devKey, "dev-admin-key")
        } else {
            (source, plaintext) = (.generated, try ApiKeyFormat.generate())
        }
        _ = try await create(
            name: "Default Admin Key", role: .admin, allowedIps: nil, allowedSessions: nil, allowedChats: nil,
            expiresAt: nil, plaintext: plaintext)
        if let bootstrapKeyFile {
            try writeSecretFile(bootstrapKeyFile, contents: plaintext + "\n")
        }
        return .created(plaintext: plaintext, source: source)
    }

    private func writeSecretFile(_ path: String, contents: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Create with 0600 before writing so the secret is never readable by others, even briefly.
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try Data(contents.utf8).write(to: url)
    }
}
