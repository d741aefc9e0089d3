import ArgumentParser
import Foundation
import HotSecretsModel

/// Dates given on the command line.
enum DateArgument {
  /// `YYYY-MM-DD` (midnight UTC, or with `endOfDay` the day's last second) or `YYYY-MM-DDTHH:MM:SSZ`.
  static func parse(_ text: String, endOfDay: Bool = false) throws -> Date {
    // Round-tripped, so that impossible dates (2026-02-30) are refused rather than normalised.
    if let date = Timestamp.date(from: text), Timestamp.string(from: date) == text { return date }
    if let date = Timestamp.date(from: text + "T00:00:00Z"), Timestamp.string(from: date) == text + "T00:00:00Z" {
      return endOfDay ? date + 86_399 : date
    }
    throw ValidationError("invalid date '\(text)': use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
  }
}
