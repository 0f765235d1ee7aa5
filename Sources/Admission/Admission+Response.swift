#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Admission {
    /// The head's answer to a ``Request``.
    public enum Response: Codable, Sendable, Equatable {
        /// Waiting for an administrator (`cluster admit FINGERPRINT`), or for the policy.
        case pending(fingerprint: String)
        /// Refused; the sentence says why. The node keeps asking, slowly: a denial can be undone.
        case denied(String)
        /// The cluster key, sealed to the request's public key (``Sealed``).
        case admitted(Sealed)

        /// Decodes one response line (the node reads it from whoever answers at the head's
        /// address, so it is checked like any other input).
        public static func decode(_ bytes: some Collection<UInt8>) -> Response? {
            guard bytes.count <= Admission.maxMessage else { return nil }
            return try? JSONDecoder().decode(Response.self, from: Data(bytes))
        }
    }
}
