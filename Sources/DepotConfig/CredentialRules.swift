/// The lengths an access key and a secret key must have, wherever credentials are made: the
/// configuration's accounts, accounts added through the admin API or `depot account add`, and the
/// root account from `DEPOT_ROOT_USER` / `DEPOT_ROOT_PASSWORD`. They are MinIO's minimums, so
/// credentials moved from a MinIO setup keep working and a guessable short secret is refused.
public enum CredentialRules {
    public static let minimumAccessKeyLength = 3
    public static let minimumSecretKeyLength = 8

    /// What is wrong with an access key, or nil.
    public static func accessKeyProblem(_ accessKey: String) -> String? {
        accessKey.count >= minimumAccessKeyLength ? nil : "must be at least \(minimumAccessKeyLength) characters"
    }

    /// What is wrong with a secret key, or nil.
    public static func secretKeyProblem(_ secretKey: String) -> String? {
        secretKey.count >= minimumSecretKeyLength ? nil : "must be at least \(minimumSecretKeyLength) characters"
    }
}
