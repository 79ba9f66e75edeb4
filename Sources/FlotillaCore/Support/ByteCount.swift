/// Sizes for people: decimal units, as `ls -h --si` and the flags' defaults say them.
package enum ByteCount {
    /// `512 bytes`, `20 kB`, `1.5 MB`, `1.1 GB`.
    package static func describe(_ bytes: Int) -> String {
        let units = [(1_000_000_000.0, "GB"), (1_000_000.0, "MB"), (1_000.0, "kB")]
        for (size, unit) in units where Double(bytes) >= size {
            let value = Double(bytes) / size
            let rounded = value >= 10 ? String(Int(value.rounded())) : String((value * 10).rounded() / 10)
            return "\(rounded.hasSuffix(".0") ? String(rounded.dropLast(2)) : rounded) \(unit)"
        }
        return "\(bytes) byte\(bytes == 1 ? "" : "s")"
    }
}
