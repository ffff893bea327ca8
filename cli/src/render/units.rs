//! How sizes are written for people.  One convention everywhere: binary
//! units, 1 KiB = 1024 bytes, 1 MiB = 1024 KiB, 1 GiB = 1024 MiB, with
//! three significant figures ("53.1 KiB", "1.00 MiB", "912 bytes").

/// A size in bytes, for reading.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return if bytes == 1 { "1 byte".into() } else { format!("{bytes} bytes") };
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// A signed size: "+53.1 KiB", "-1.00 MiB", "0 bytes".
pub fn signed(bytes: i64) -> String {
    match bytes {
        0 => "0 bytes".into(),
        b if b > 0 => format!("+{}", size(b as u64)),
        b => format!("-{}", size(b.unsigned_abs())),
    }
}

/// An unsigned size without a sign: the magnitude of a signed one.
pub fn magnitude(bytes: i64) -> String {
    size(bytes.unsigned_abs())
}

/// A count with thousands separators: 1,234,567.
pub fn count(n: u64) -> String {
    memprof_profile::group_digits(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(1024), "1.00 KiB");
        assert_eq!(size(54_374), "53.1 KiB");
        assert_eq!(size(1 << 20), "1.00 MiB");
        assert_eq!(size(150 << 20), "150 MiB");
        assert_eq!(size(3 << 30), "3.00 GiB");
        assert_eq!(signed(-(1 << 20)), "-1.00 MiB");
        assert_eq!(signed(2048), "+2.00 KiB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }
}
