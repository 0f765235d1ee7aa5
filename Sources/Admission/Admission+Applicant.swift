import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Admission {
    /// A node asking to join: a fresh key pair (the private key lives only in this value, in
    /// memory, for this boot), the request it sends, and the opening of the answer.
    public struct Applicant: Sendable {
        private let privateKey: Curve25519.KeyAgreement.PrivateKey
        public let request: Request

        public init(node: String, hostname: String, macs: [String], serial: String?) {
            privateKey = Curve25519.KeyAgreement.PrivateKey()
            request = Request(node: node, hostname: hostname, macs: macs, serial: serial, publicKey: privateKey.publicKey.rawRepresentation)
        }

        /// What an answer means for this applicant.
        public enum Outcome: Sendable, Equatable {
            case key([UInt8])
            case waiting(fingerprint: String)
            case denied(String)
            /// An answer that is not one (garbage, or a key sealed to someone else).
            case unreadable
        }

        public func outcome(of response: Response?, cluster: String) -> Outcome {
            switch response {
            case .pending(let fingerprint)?: .waiting(fingerprint: fingerprint)
            case .denied(let reason)?: .denied(String(reason.prefix(200)))
            case .admitted(let sealed)?:
                Admission.open(sealed, with: privateKey, cluster: cluster, node: request.node).map(Outcome.key) ?? .unreadable
            case nil: .unreadable
            }
        }
    }
}
