extension ClusterSimulator {
    /// Small statistics over plain arrays.
    enum Statistics {
        /// The q-quantile (0...1) by nearest rank; 0 for an empty array.
        static func quantile(_ values: [Double], _ q: Double) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            let rank = Int((q * Double(sorted.count - 1)).rounded())
            return sorted[min(max(rank, 0), sorted.count - 1)]
        }

        static func mean(_ values: [Double]) -> Double {
            values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }

        static func standardDeviation(_ values: [Double]) -> Double {
            guard values.count > 1 else { return 0 }
            let m = mean(values)
            let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
            return squareRoot(variance)
        }

        static func squareRoot(_ x: Double) -> Double { x.squareRoot() }
    }
}
