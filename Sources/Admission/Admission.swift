/// How a node that boots without the cluster key gets it: it makes a key pair, asks the head
/// to be admitted, and receives the key sealed to its public key once the head's policy or an
/// administrator (`cluster admit`) says yes (Docs/security.md, "Admission").
///
/// Everything here is pure: requests and responses with their validation, the head's book of
/// who is waiting, and the sealing. The sockets are the agent's.
public enum Admission {
    /// The admission port is the agent's port plus this.
    public static let portOffset: UInt16 = 1
    /// Largest request or response line, in bytes: the fields are short.
    public static let maxMessage = 8 * 1024
}
