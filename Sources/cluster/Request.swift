import ClusterControl

/// A failure shown to the user as one sentence (exit status 1).
struct Failure: Error, CustomStringConvertible {
    var description: String
}

enum Request {
    /// Sends a full request; an error answer or an unreachable agent becomes a ``Failure``.
    static func send(_ request: Control.Request, socket: String) throws -> Control.Response {
        let response: Control.Response
        do {
            response = try Control.Client.send(request, socketPath: socket)
        } catch {
            throw Failure(description: error.description)
        }
        if let error = response.error { throw Failure(description: "clusterd: \(error)") }
        return response
    }

    /// The failure for an answer of another kind than `request` asks for (an agent of another
    /// version).
    static func unexpected(_ response: Control.Response, to request: Control.Request) -> Failure {
        Failure(description: "clusterd answered `\(request.command.rawValue)` with \(response.kind): is the agent a different version?")
    }
}
