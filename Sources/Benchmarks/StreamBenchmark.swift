import Agent
import ClusterWire
import Crypto
import Foundation
import Glibc
import LiveBuild

/// The agents' encrypted stream against plain TCP on the same loopback, and the two AEAD
/// ciphers it could use, in one run (`livebuild bench stream`). Migration images travel over
/// this stream; CRIU's page server moves the same bytes over plain TCP.
///
/// Every method sends the same file from tmpfs in 1 MiB chunks: the plain reference reads it
/// with `read` and writes it to a blocking socket, the receiver reads into one buffer and
/// drops it (CRIU's page server does no less). The cipher rows seal and open 1 MiB frames in
/// memory, the work each side of the stream adds per byte.
public struct StreamBenchmark: Sendable {
    public var megabytes: Int
    public var runs: Int
    public var scratch: String

    public init(megabytes: Int, runs: Int, scratch: String) {
        self.megabytes = megabytes
        self.runs = runs
        self.scratch = scratch
    }

    public struct Row: Sendable, Codable {
        public var method: String
        /// MB/s (10⁶ bytes) of each run.
        public var rates: [Double]
        public var median: Double { rates.sorted()[rates.count / 2] }
    }

    public struct Report: Sendable, Codable {
        public var megabytes: Int
        public var rows: [Row]
        /// Our stream's median, with the cipher this host chooses, ÷ plain TCP's median.
        public var streamRatio: Double
        /// Post-copy's page relay (criu's 4 MiB transfers through two socketpairs and the
        /// stream) ÷ the stream alone, medians.
        public var relayRatio: Double
        /// One page asked for and answered through the relay, median of each run's mean, µs.
        public var relayRoundTripMicroseconds: Double
    }

    public func run(progress: (String) -> Void) async throws -> Report {
        let bytes = megabytes << 20
        let file = scratch + "/stream-bench.data"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { unlink(file) }
        try Self.writeData(file, bytes: bytes)
        let keys = try Wire.Keys(clusterKey: (0..<32).map { _ in UInt8.random(in: 0...255) })
        var streams = Wire.Stream.Cipher.allCases.map { Row(method: "agent stream, \($0)" + ($0 == .preferred ? " (chosen here)" : ""), rates: []) }
        var plain = Row(method: "plain TCP", rates: [])
        var relay = Row(method: "page relay (post-copy), 4 MiB transfers", rates: [])
        var roundTrips: [Double] = []
        for run in 1...runs {
            // Alternating, so a slow moment of the host hurts each alike.
            for (index, cipher) in Wire.Stream.Cipher.allCases.enumerated() {
                let ours = try await Agent.StreamProbe.sendFile(file, keys: keys, cipher: cipher)
                streams[index].rates.append(Double(bytes) / 1e6 / ours.time.seconds)
            }
            let reference = try Self.plainTCP(file, bytes: bytes)
            plain.rates.append(Double(bytes) / 1e6 / reference.seconds)
            let transfers = max(1, megabytes / 4)
            let bulk = try await Agent.StreamProbe.relayRoundTrips(transfers, responseBytes: 4 << 20, keys: keys)
            let pages = try await Agent.StreamProbe.relayRoundTrips(200, responseBytes: 4096 + 24, keys: keys)
            guard bulk.intact && pages.intact else { throw LiveBuildError(code: .output, message: "the page relay delivered wrong bytes") }
            relay.rates.append(Double(transfers << 22) / 1e6 / bulk.time.seconds)
            roundTrips.append(pages.time.seconds / 200 * 1e6)
            progress("run \(run): " + streams.map { "\($0.method) \(Int($0.rates.last!)) MB/s" }.joined(separator: ", ") + ", plain TCP \(Int(plain.rates.last!)) MB/s")
        }
        let chosen = streams[Wire.Stream.Cipher.allCases.firstIndex(of: .preferred) ?? 0]
        let frame = [UInt8](repeating: 0x5a, count: 1 << 20)
        let frames = max(1, megabytes)
        let chacha = try Self.sealOpen(frames: frames, runs: runs) {
            let key = SymmetricKey(size: .bits256)
            return { nonce in
                let box = try ChaChaPoly.seal(frame, using: key, nonce: try ChaChaPoly.Nonce(data: nonce))
                return try ChaChaPoly.open(box, using: key).count
            }
        }
        let gcm = try Self.sealOpen(frames: frames, runs: runs) {
            let key = SymmetricKey(size: .bits256)
            return { nonce in
                let box = try AES.GCM.seal(frame, using: key, nonce: try AES.GCM.Nonce(data: nonce))
                return try AES.GCM.open(box, using: key).count
            }
        }
        let rows = streams + [plain, relay, Row(method: "ChaCha20-Poly1305 seal+open", rates: chacha), Row(method: "AES-256-GCM seal+open", rates: gcm)]
        return Report(
            megabytes: megabytes, rows: rows, streamRatio: chosen.median / plain.median, relayRatio: relay.median / chosen.median,
            relayRoundTripMicroseconds: roundTrips.sorted()[roundTrips.count / 2])
    }

    /// MB/s of sealing and opening `frames` 1 MiB frames, per run.
    static func sealOpen(frames: Int, runs: Int, _ make: () -> ([UInt8]) throws -> Int) throws -> [Double] {
        let step = make()
        let clock = ContinuousClock()
        return try (0..<runs).map { _ in
            let started = clock.now
            for index in 0..<frames {
                var nonce = [UInt8](repeating: 0, count: 12)
                nonce[8] = UInt8(truncatingIfNeeded: index >> 24); nonce[9] = UInt8(truncatingIfNeeded: index >> 16)
                nonce[10] = UInt8(truncatingIfNeeded: index >> 8); nonce[11] = UInt8(truncatingIfNeeded: index)
                _ = try step(nonce)
            }
            return Double(frames << 20) / 1e6 / (clock.now - started).seconds
        }
    }

    static func writeData(_ path: String, bytes: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in block.indices { block[index] = UInt8.random(in: 0...255, using: &generator) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LiveBuildError(code: .output, message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var left = bytes
        while left > 0 {
            let count = min(left, block.count)
            guard block.withUnsafeBytes({ write(descriptor, $0.baseAddress, count) }) == count else { throw LiveBuildError(code: .output, message: "cannot write \(path): \(String(cString: strerror(errno)))") }
            left -= count
        }
    }

    /// The reference: the file through a blocking loopback TCP connection, as a page server
    /// receives pages (read into one buffer, dropped).
    static func plainTCP(_ file: String, bytes: Int) throws -> Duration {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw LiveBuildError(code: .tool, message: "socket: \(errno)") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound else { throw LiveBuildError(code: .tool, message: "cannot listen on loopback: \(errno)") }
        let done = DispatchSemaphore(value: 0)
        let receiver = Thread {
            defer { done.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var received = 0
            while received < bytes {
                let got = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if got <= 0 { return }
                received += got
            }
        }
        let clock = ContinuousClock()
        let sender = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(sender) }
        receiver.start()
        let connected = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sender, $0, length) == 0 }
        }
        guard connected else { throw LiveBuildError(code: .tool, message: "cannot connect on loopback: \(errno)") }
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LiveBuildError(code: .tool, message: "cannot read \(file)") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let started = clock.now
        while true {
            let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard got > 0 else { break }
            var offset = 0
            while offset < got {
                let sent = buffer.withUnsafeBytes { send(sender, $0.baseAddress! + offset, got - offset, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw LiveBuildError(code: .tool, message: "loopback send failed: \(errno)") }
                offset += sent
            }
        }
        done.wait()
        return clock.now - started
    }
}
