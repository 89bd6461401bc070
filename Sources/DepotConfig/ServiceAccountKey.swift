import Foundation

/// The fields Depot uses of a Google service account's JSON key.
public struct ServiceAccountKey: Sendable, Equatable {
    public let clientEmail: String
    public let privateKey: String
    public let tokenURI: String

    public struct Invalid: Error, Sendable {
        public let reason: String
    }

    public init(json: String) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            throw Invalid(reason: "is not a service account key (JSON)")
        }
        guard let email = object["client_email"] as? String, !email.isEmpty else {
            throw Invalid(reason: "the key has no client_email")
        }
        guard let key = object["private_key"] as? String, key.contains("PRIVATE KEY") else {
            throw Invalid(reason: "the key has no private_key")
        }
        clientEmail = email
        privateKey = key
        tokenURI = object["token_uri"] as? String ?? "https://oauth2.googleapis.com/token"
    }
}
