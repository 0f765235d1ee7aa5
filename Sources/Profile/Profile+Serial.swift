extension Profile {
    /// A serial console: `ttyS<port>` at `speed` baud, 8N1.
    public struct Serial: Sendable, Equatable {
        /// Allowed speeds, in baud.
        public static let speeds = [9600, 19200, 38400, 57600, 115200]
        /// Allowed ports (`ttyS0` ... `ttyS3`).
        public static let ports = 0...3

        /// The port number, `0...3`.
        public var port: Int
        /// Baud rate, one of ``speeds``.
        public var speed: Int

        /// `ttyS<port>` at `speed` baud; the defaults are the ones a profile gets for absent keys.
        public init(port: Int = 0, speed: Int = 115200) {
            self.port = port
            self.speed = speed
        }
    }
}
