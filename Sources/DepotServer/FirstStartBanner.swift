/// What the server prints on its first start on a data directory, once it listens: ready-to-paste
/// `export AWS_…` lines for the root account, so the README's recipes (awscli, boto3, s3cmd,
/// rclone, minio) work from that shell as they are. A secret Depot generated (or keeps in
/// `root-credentials`) is printed, as its generation notice prints it; a secret from
/// `DEPOT_ROOT_PASSWORD` is written as a reference to that variable, never echoed.
struct FirstStartBanner: Sendable {
    let accessKey: String
    /// The literal secret, or nil when it comes from `DEPOT_ROOT_PASSWORD`.
    let secret: String?
    let region: String

    /// The data directory's file the server makes at its first start there (the Vault link
    /// signing key; offline `depot` commands never make it): missing means a first start.
    static let firstStartMarker = "url-signing-key"

    func text(listeningOn url: String) -> String {
        let secretWord = secret.map(Self.shellQuoted) ?? "\"$DEPOT_ROOT_PASSWORD\""
        return """
            To use Depot from a shell (the README's awscli, s3cmd, rclone and minio recipes read these):
            export AWS_ACCESS_KEY_ID=\(Self.shellQuoted(accessKey)) AWS_SECRET_ACCESS_KEY=\(secretWord) \
            AWS_ENDPOINT_URL=\(Self.shellQuoted(Self.clientURL(url))) AWS_DEFAULT_REGION=\(Self.shellQuoted(region))
            """
    }

    /// The URL a client on this machine uses: a wildcard listen address (0.0.0.0, ::) is not
    /// one to connect to, so it becomes 127.0.0.1.
    static func clientURL(_ url: String) -> String {
        for wildcard in ["://0.0.0.0:", "://[::]:", "://:::"] where url.contains(wildcard) {
            return url.replacingOccurrences(of: wildcard, with: "://127.0.0.1:")
        }
        return url
    }

    /// `word` as one shell word: bare when it has only safe characters, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let safe = word.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "-_.:/@%+=,".utf8.contains(c)
        }
        if safe && !word.isEmpty { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
