import ClusterControl

/// A failure shown to the user as one sentence (exit status 1).
struct Failure: Error, CustomStringConvertible {
    var description: String
}

enum Request {
    /// Asks the agent; an error answer or an unreachable agent becomes a ``Failure``.
    static func send(_ command: Control.Request.Command, options: ControlOptions) throws -> Control.Response {
        try send(Control.Request(command), socket: options.socket)
    }

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
}
