extension Agent {
    /// The first frame of a stream between agents: a forwarded control request, or the start
    /// of a migration (the next frame is a ``Migration/Message``). On the wire:
    /// `{"request": {...}}` or `{"migration": true}`.
    enum PeerFrame: Sendable {
        case request(PeerRequest)
        case migration
    }
}

extension Agent.PeerFrame: Codable {
    private enum Field: String, CodingKey {
        case request, migration
    }

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Field.self)
        if try fields.decodeIfPresent(Bool.self, forKey: .migration) == true {
            self = .migration
        } else if let request = try fields.decodeIfPresent(Agent.PeerRequest.self, forKey: .request) {
            self = .request(request)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "neither a request nor the start of a migration"))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Field.self)
        switch self {
        case .request(let request): try fields.encode(request, forKey: .request)
        case .migration: try fields.encode(true, forKey: .migration)
        }
    }
}
