import CPostgres
import Foundation
import SystemLibraries

/// libpq's functions, from `libpq.so.5` opened with `dlopen` the first time a command opens a
/// PostgreSQL vault (see Sources/CPostgres).
struct PostgresLibrary: @unchecked Sendable {
  typealias ConnectDB = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
  typealias Finish = @convention(c) (OpaquePointer?) -> Void
  typealias Status = @convention(c) (OpaquePointer?) -> ConnStatusType
  typealias ErrorMessage = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
  typealias Exec = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
  typealias ExecParams = @convention(c) (
    OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
    UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
  ) -> OpaquePointer?
  typealias ResultStatus = @convention(c) (OpaquePointer?) -> ExecStatusType
  typealias ResultErrorField = @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
  typealias Count = @convention(c) (OpaquePointer?) -> Int32
  typealias GetValue = @convention(c) (OpaquePointer?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
  typealias GetInt = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
  typealias Clear = @convention(c) (OpaquePointer?) -> Void
  typealias CommandTuples = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
  typealias ConnectionInt = @convention(c) (OpaquePointer?) -> Int32

  let connectDB: ConnectDB
  let finish: Finish
  let status: Status
  let errorMessage: ErrorMessage
  let exec: Exec
  let execParams: ExecParams
  let resultStatus: ResultStatus
  let resultErrorField: ResultErrorField
  let ntuples: Count
  let getvalue: GetValue
  let getlength: GetInt
  let getisnull: GetInt
  let clear: Clear
  let cmdTuples: CommandTuples
  let needsPassword: ConnectionInt
  let usedPassword: ConnectionInt
  let sslInUse: ConnectionInt
  /// `PQhost`: the host (or socket folder) the connection actually reached.
  let host: ErrorMessage

  /// The loaded library, or why it could not be loaded.
  static let shared: Result<PostgresLibrary, DynamicLibraryError> = Result { () throws(DynamicLibraryError) in
    let library = try DynamicLibrary.open(["libpq.so.5", "libpq.so"], package: "libpq5")
    return PostgresLibrary(
      connectDB: try library.function("PQconnectdb", as: ConnectDB.self),
      finish: try library.function("PQfinish", as: Finish.self),
      status: try library.function("PQstatus", as: Status.self),
      errorMessage: try library.function("PQerrorMessage", as: ErrorMessage.self),
      exec: try library.function("PQexec", as: Exec.self),
      execParams: try library.function("PQexecParams", as: ExecParams.self),
      resultStatus: try library.function("PQresultStatus", as: ResultStatus.self),
      resultErrorField: try library.function("PQresultErrorField", as: ResultErrorField.self),
      ntuples: try library.function("PQntuples", as: Count.self),
      getvalue: try library.function("PQgetvalue", as: GetValue.self),
      getlength: try library.function("PQgetlength", as: GetInt.self),
      getisnull: try library.function("PQgetisnull", as: GetInt.self),
      clear: try library.function("PQclear", as: Clear.self),
      cmdTuples: try library.function("PQcmdTuples", as: CommandTuples.self),
      needsPassword: try library.function("PQconnectionNeedsPassword", as: ConnectionInt.self),
      usedPassword: try library.function("PQconnectionUsedPassword", as: ConnectionInt.self),
      sslInUse: try library.function("PQsslInUse", as: ConnectionInt.self),
      host: try library.function("PQhost", as: ErrorMessage.self))
  }
}

