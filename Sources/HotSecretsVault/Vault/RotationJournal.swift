import HotSecretsModel

/// Rules over the journal that are not storage.
package enum RotationJournal {
  /// Refuses a change to one of `names` while an unfinished rotation of `environment` holds it: the
  /// run would promote over the change, or revoke a value the change brought back.
  package static func guardAgainstUnfinishedRun(environment: String, names: [ServiceKey], in tx: any StoreTransaction)
    throws
  {
    guard let run = try tx.journal.unfinished(environment: environment) else { return }
    let held = Set(try tx.journal.items(run: run.id).map(\.name))
    if let name = names.first(where: held.contains) {
      throw RotationError.keyInUnfinishedRun(
        name: "\(environment)/\(name)", environment: environment, run: run.id, step: run.step.rawValue)
    }
  }
}
