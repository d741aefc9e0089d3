import Foundation

/// UTC timestamps as ISO 8601 text (`2026-11-29T23:40:00Z`), the one format the store, the audit
/// trail and JSON output use. Text sorts in time order.
public enum Timestamp {
  /// `date` as `YYYY-MM-DDTHH:MM:SSZ`, seconds precision.
  public static func string(from date: Date) -> String {
    var t = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&t, &parts)
    var out = [UInt8]()
    out.reserveCapacity(20)
    func digits(_ value: Int, _ count: Int) {
      var divisor = 1
      for _ in 1..<count { divisor *= 10 }
      var v = value
      while divisor > 0 {
        out.append(UInt8(48 + (v / divisor) % 10))
        v %= divisor
        divisor /= 10
      }
    }
    digits(Int(parts.tm_year) + 1900, 4)
    out.append(45)  // -
    digits(Int(parts.tm_mon) + 1, 2)
    out.append(45)
    digits(Int(parts.tm_mday), 2)
    out.append(84)  // T
    digits(Int(parts.tm_hour), 2)
    out.append(58)  // :
    digits(Int(parts.tm_min), 2)
    out.append(58)
    digits(Int(parts.tm_sec), 2)
    out.append(90)  // Z
    return String(decoding: out, as: UTF8.self)
  }

  /// Parses the format written by `string(from:)`; nil for anything else.
  public static func date(from text: String) -> Date? {
    let u = Array(text.utf8)
    guard u.count == 20, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 90
    else { return nil }
    func num(_ r: Range<Int>) -> Int? {
      var v = 0
      for i in r {
        guard u[i] >= 48, u[i] <= 57 else { return nil }
        v = v * 10 + Int(u[i] - 48)
      }
      return v
    }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
      let h = num(11..<13), let mi = num(14..<16), let s = num(17..<19),
      (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
    else { return nil }
    var parts = tm()
    parts.tm_year = Int32(y - 1900)
    parts.tm_mon = Int32(mo - 1)
    parts.tm_mday = Int32(d)
    parts.tm_hour = Int32(h)
    parts.tm_min = Int32(mi)
    parts.tm_sec = Int32(s)
    return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
  }

  /// Whole days from `earlier` to `later`, rounded down; never negative.
  public static func days(from earlier: Date, to later: Date) -> Int {
    max(0, Int((later.timeIntervalSince(earlier) / 86_400).rounded(.down)))
  }
}
