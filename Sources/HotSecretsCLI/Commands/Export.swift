import ArgumentParser
import Foundation
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import RemoteAPIs

extension HotSecrets {
  /// Evidence bundles for auditors.
  struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export",
      abstract: "Write and check signed compliance evidence bundles.",
      subcommands: [Compliance.self, VerifyBundle.self])

    struct Compliance: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "Write a signed evidence bundle of ENV for auditors (SOC 2 CC6.1, CC7.2, CC8.1).",
        discussion: """
          Writes to DIR (which must not exist, or be empty): inventory.csv, rotations.csv, \
          access.csv, reads.csv (who read which secrets in the period: get, run, render, verify \
          --live), policy-results.json (`verify ENV` now, without network checks), audit.jsonl \
          (the period's audit entries), audit-verification.json (the whole chain and the \
          checkpoints file, MACs included), report.html (one self-contained page), signer.pub, \
          manifest.json (the SHA-256 of every file), manifest.sig (base64 Ed25519 signature of \
          manifest.json's exact bytes, by the vault's audit signing key) and SHA256SUMS (every \
          other file, for `sha256sum -c SHA256SUMS`). No secret value is written. The bundle \
          appears all at once (built in a hidden sibling folder, then renamed). The export is \
          audited (export-compliance) and its audit head is checkpointed in \
          ROOT/vault/audit-checkpoints.log (--checkpoints overrides). Formats and columns: \
          docs/compliance.md. Check a bundle with `hotsecrets export verify DIR`.

          --since and --until take YYYY-MM-DD (--until includes that whole day) or \
          YYYY-MM-DDTHH:MM:SSZ; the period defaults to the vault's creation until now. An \
          --until later than now is refused: a bundle cannot cover time that has not happened. \
          The inventory and ages are as of the export.

          Exit codes: 0 the bundle was written, whatever its controls show (failing controls \
          are evidence too, reported inside it); 2 it could not be written (no vault, cannot \
          unlock, bad policy, DIR not empty, a period ending before it starts or after now, \
          I/O); 64 usage error.
          """)

      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @OptionGroup var policyOptions: PolicyOptions
      @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
      @Option(help: ArgumentHelp("Folder to write the bundle to (must not exist, or be empty).", valueName: "dir"), completion: .directory)
      var out: String
      @Option(help: ArgumentHelp("Start of the period (default: the vault's creation).", valueName: "date"))
      var since: String?
      @Option(help: ArgumentHelp("End of the period, inclusive (default: now).", valueName: "date"))
      var until: String?
      @Option(
        help: ArgumentHelp("Mirror folder `verify` checks for drift (default: ROOT/vault/occ).", valueName: "dir"), completion: .directory)
      var from: String?
      @Option(help: ArgumentHelp("Checkpoints file (default: ROOT/vault/audit-checkpoints.log).", valueName: "file"), completion: .file())
      var checkpoints: String?

      struct Output: Encodable {
        struct File: Encodable {
          let sha256: String
          let bytes: Int
        }
        struct Checkpoint: Encodable {
          let seq: Int64
          let hash, file: String
        }
        let directory, environment, generatedAt, signer, vaultID: String
        let period: CompliancePeriod
        let files: [String: File]
        let auditHead: AuditHead
        let auditEntries, inventory, rotations, reads: Int
        let controls: [ComplianceControl]
        let signingKeyCreated: Bool
        @NullEncoded var checkpoint: Checkpoint?
        @NullEncoded var checkpointError: String?

        enum CodingKeys: String, CodingKey {
          case directory, environment, signer, period, files, controls, checkpoint, inventory, rotations, reads
          case generatedAt = "generated_at"
          case vaultID = "vault_id"
          case auditHead = "audit_head"
          case auditEntries = "audit_entries"
          case signingKeyCreated = "signing_key_created"
          case checkpointError = "checkpoint_error"
        }
      }

      func validate() throws {
        if out.isEmpty { throw ValidationError("--out needs a folder name") }
        _ = try since.map { try DateArgument.parse($0) }
        _ = try until.map { try DateArgument.parse($0, endOfDay: true) }
      }

      func run() async throws {
        try SecretAddress.validateEnvironment(environment)
        let period = (
          since: try since.map { try DateArgument.parse($0) },
          until: try until.map { try DateArgument.parse($0, endOfDay: true) }
        )
        let parsed = try policyOptions.load(environment: environment, root: vault.root)
        let session = try vault.unlock()
        let checkpointsFile = AuditCheckpoints.path(explicit: checkpoints, root: vault.root)
        let result: ComplianceExport.Result
        do {
          result = try await ComplianceExport(
            session: session, policy: parsed,
            options: .init(
              since: period.since, until: period.until, mirrorDirectory: MirrorFolder.resolve(from, root: vault.root),
              checkpointsFile: checkpointsFile, toolVersion: HotSecretsVersion.current,
              findingWords: { FindingWords.line($0, environment: parsed.environment) },
              verifyCommand: "hotsecrets export verify DIR")
          ).write(to: out)
        } catch ComplianceError.periodEndsLater(let until, let generatedAt) {
          throw CLIError.invalidInput(
            "--until \(until) is later than the generation time \(generatedAt) (now): a bundle cannot cover time that has not happened; give an earlier --until, or leave it out to end the period now"
          )
        }
        let m = result.manifest
        if let error = result.checkpointError {
          StandardStreams.warning("the audit checkpoint was not written to \(checkpointsFile): \(error)")
        }
        let value = Output(
          directory: result.directory, environment: m.environment, generatedAt: m.generatedAt, signer: m.signer,
          vaultID: m.vaultID, period: m.period,
          files: Dictionary(
            uniqueKeysWithValues: result.sizes.map { name, size in
              (name, Output.File(sha256: result.hashes[name] ?? "", bytes: size))
            }), auditHead: m.auditHead, auditEntries: result.auditEntriesInPeriod, inventory: result.inventoryRows,
          rotations: result.rotationRows, reads: result.readRows, controls: m.controls,
          signingKeyCreated: result.signingKeyCreated,
          checkpoint: result.checkpoint.map { .init(seq: $0.seq, hash: $0.hash, file: checkpointsFile) },
          checkpointError: result.checkpointError)
        try output.write(value) {
          var lines = [
            "export compliance \(m.environment): wrote \(result.directory) (\(Plural.count(result.sizes.count, "file")))",
            "  period     \(m.period.since) → \(m.period.until)",
            "  evidence   \(Plural.count(result.inventoryRows, "secret")), \(Plural.count(result.rotationRows, "rotation row")), \(Plural.count(result.auditEntriesInPeriod, "audit entry", "audit entries"))",
            "  reads      \(Plural.count(result.reads, "read")) of the values in the period (\(Plural.count(result.readRows, "row")) in reads.csv)",
            "  signed by  \(m.signer)" + (result.signingKeyCreated ? " (signing key created now)" : ""),
          ]
          if let c = result.checkpoint {
            lines.append("  checkpoint seq \(c.seq) hash \(Short.fingerprint(c.hash)) appended to \(checkpointsFile)")
          }
          let passing = m.controls.filter { $0.status == .pass }.count
          let notApplicable = m.controls.filter { $0.status == .notApplicable }.count
          lines.append(
            "controls: \(passing) of \(m.controls.count) pass"
              + (notApplicable > 0 ? ", \(notApplicable) not applicable" : ""))
          for control in m.controls {
            let word =
              switch control.status {
              case .pass: "PASS"
              case .fail: "FAIL"
              case .notApplicable: "N/A "
              }
            lines.append(
              "  \(word)  \(control.title) (\(control.criteria.joined(separator: ", "))): \(control.detail)")
          }
          lines.append("check it: hotsecrets export verify \(result.directory)")
          return lines.joined(separator: "\n")
        }
      }
    }

    struct VerifyBundle: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a compliance bundle: every file's SHA-256 and the manifest's signature.",
        discussion: """
          Needs no vault and no unlock. Checks that manifest.sig is a valid Ed25519 signature of \
          manifest.json's exact bytes by signer.pub, that every file manifest.json lists is \
          present with its SHA-256, that SHA256SUMS lists every other file with the same digests \
          (what `sha256sum -c SHA256SUMS` checks), and that the folder holds no other file. A \
          valid signature only proves the bundle is unchanged since someone holding that key \
          signed it: also check the signer is your vault's key, with --signer-key (the `key=` of \
          your committed checkpoints) or --checkpoints FILE (the signer must have signed that \
          file's checkpoints, and the bundle's audit head must be checkpointed there, as `export` \
          does).

          Exit codes: 0 the bundle is intact (and anchored, when asked); 1 a file is altered, \
          missing or extra, SHA256SUMS disagrees with the manifest, the signature is bad, or the \
          signer is not the expected key; 2 DIR is not a folder; 64 usage error.
          """)

      @OptionGroup var output: OutputOptions
      @Argument(help: "The bundle folder.", completion: .directory) var directory: String
      @Option(help: ArgumentHelp("The expected signer: the vault's signing public key (base64).", valueName: "key"))
      var signerKey: String?
      @Option(
        help: ArgumentHelp(
          "A checkpoints file (e.g. the one committed to git) that must anchor the signer and the audit head.",
          valueName: "file"), completion: .file())
      var checkpoints: String?

      func validate() throws {
        if signerKey != nil, checkpoints != nil {
          throw ValidationError("give --signer-key or --checkpoints, not both")
        }
      }

      func run() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
          throw CLIError.io(path: directory, reason: "not a folder")
        }
        let anchor: BundleVerifier.Anchor? =
          signerKey.map { .signerKey($0) } ?? checkpoints.map { .checkpoints(path: $0) }
        let result = BundleVerifier.verify(directory: directory, anchor: anchor)
        try output.write(result) {
          var lines: [String] = []
          if result.valid {
            let checksums = result.manifest?.checksumsFile
            let count = result.files.filter { $0.name != checksums }.count
            lines.append(
              "bundle intact: \(directory): \(Plural.count(count, "file")) match manifest.json; signature valid (signer \(result.signer ?? "?"))"
            )
            if let checksums {
              lines.append(
                "  \(checksums) agrees with manifest.json: `sha256sum -c \(checksums)` in the folder checks every file")
            }
            if let m = result.manifest {
              lines.append(
                "  \(m.environment), vault \(m.vaultID), \(m.period.since) → \(m.period.until), generated \(m.generatedAt), audit head seq \(m.auditHead.seq)"
              )
            }
            if result.anchored == true {
              lines.append(
                "  signer anchored: \(signerKey != nil ? "it is the expected key" : "it signed \(checkpoints ?? "") and the audit head is checkpointed there")"
              )
            } else {
              lines.append(
                "  to be sure the signer is your vault's key, compare it with the key= of your committed checkpoints, or pass --checkpoints FILE"
              )
            }
          } else {
            lines.append("bundle NOT intact: \(directory)")
            for problem in result.problems { lines.append("  \(problem)") }
          }
          return lines.joined(separator: "\n")
        }
        if !result.valid { throw ExitCode(ExitStatus.checkFailed) }
      }
    }
  }
}
