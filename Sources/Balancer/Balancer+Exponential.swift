extension Balancer {
    /// aˣ for a > 0, without libm (the module imports nothing so the static agent stays small):
    /// eˣ by range reduction to |r| ≤ ln 2 / 2 and a Taylor polynomial, ln a by the atanh series
    /// on the significand. Relative error below 1e-12, far below what a load figure means.
    public static func power(_ base: Double, _ exponent: Double) -> Double {
        guard base > 0, base.isFinite, exponent.isFinite else { return .nan }
        return exponential(exponent * logarithm(base))
    }

    static let ln2 = 0.693_147_180_559_945_3

    /// The natural logarithm of a positive finite x.
    static func logarithm(_ x: Double) -> Double {
        let m = x.significand  // in [1, 2)
        let s = (m - 1) / (m + 1)  // in [0, 1/3)
        let s2 = s * s
        var term = s
        var sum = 0.0
        var k = 1.0
        while k < 60 {
            sum += term / k
            term *= s2
            k += 2
        }
        return Double(x.exponent) * ln2 + 2 * sum
    }

    /// eˣ, saturating to 0 and +∞ far outside the double range.
    static func exponential(_ x: Double) -> Double {
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        let k = (x / ln2).rounded()
        let r = x - k * ln2
        var term = 1.0
        var sum = 1.0
        for n in 1...16 {
            term *= r / Double(n)
            sum += term
        }
        let scale = Int(k)
        if scale > 1023 { return sum * Double(sign: .plus, exponent: 1023, significand: 1) * Double(sign: .plus, exponent: scale - 1023, significand: 1) }
        if scale < -1022 { return sum * Double(sign: .plus, exponent: -1022, significand: 1) * Double(sign: .plus, exponent: scale + 1022, significand: 1) }
        return sum * Double(sign: .plus, exponent: scale, significand: 1)
    }
}
