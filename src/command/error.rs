//! Every RESP error reply, byte for byte as Redis 7.0 sends it, in one place.
//!
//! Handlers return [`CmdError`]; the executor writes it with [`CmdError::message`]. Fixed
//! texts are constants here; texts that embed a name or a value are variants whose `Display`
//! builds them, so no handler spells an error itself.

use std::fmt;

/// `WRONGTYPE ...`
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// A string that is not a HyperLogLog, given to a PF command.
pub const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A HyperLogLog whose registers do not add up.
pub const HLL_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
/// PFDEBUG on a missing key.
pub const PFDEBUG_NO_KEY: &str = "ERR The specified key does not exist";
/// PFDEBUG DECODE of a dense value.
pub const HLL_NOT_SPARSE: &str = "ERR HLL encoding is not sparse";
/// `ERR value is not an integer or out of range`
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// `ERR value is not a valid float`
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// `ERR syntax error`
pub const SYNTAX: &str = "ERR syntax error";
/// `ERR increment or decrement would overflow`
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
/// `ERR increment would produce NaN or Infinity`
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
/// `ERR no such key`
pub const NO_SUCH_KEY: &str = "ERR no such key";
// ---- streams ----
/// A stream ID that does not parse.
pub const STREAM_ID_INVALID: &str = "ERR Invalid stream ID specified as stream command argument";
/// XADD with the ID 0-0.
pub const XADD_ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
/// XADD on a stream whose last ID is the largest there is.
pub const XADD_ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
/// XADD with an ID not above the last one.
pub const XADD_ID_NOT_GREATER: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
/// XADD fields and values past a node's hard limit.
pub const XADD_TOO_LARGE: &str = "ERR Elements are too large to be stored";
/// An exclusive range start that cannot be incremented.
pub const STREAM_START_INVALID: &str = "ERR invalid start ID for the interval";
/// An exclusive range end that cannot be decremented.
pub const STREAM_END_INVALID: &str = "ERR invalid end ID for the interval";
/// MAXLEN and MINID together.
pub const TRIM_BOTH: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
/// A negative MAXLEN.
pub const TRIM_MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
/// A negative LIMIT.
pub const TRIM_LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
/// LIMIT without MAXLEN or MINID.
pub const TRIM_LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
/// XTRIM without MAXLEN or MINID.
pub const XTRIM_NO_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
/// LIMIT with exact trimming.
pub const TRIM_LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
/// An odd list of keys and IDs after STREAMS.
pub const XREAD_UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
/// GROUP given to XREAD.
pub const XREAD_GROUP_OPTION: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
/// NOACK given to XREAD.
pub const XREAD_NOACK_OPTION: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
/// XREADGROUP without GROUP.
pub const XREADGROUP_NO_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
/// `$` given to XREADGROUP.
pub const XREADGROUP_DOLLAR: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
/// `>` given to XREAD.
pub const XREAD_GT: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
/// A blocked XREADGROUP whose group was destroyed.
pub const XREADGROUP_GROUP_GONE: &str =
    "NOGROUP the consumer group this client was blocked on no longer exists";
/// A blocked XREADGROUP whose stream was deleted or replaced.
pub const XREADGROUP_KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";
/// XGROUP on a missing key without MKSTREAM.
pub const XGROUP_NO_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
/// XGROUP CREATE of an existing group.
pub const XGROUP_BUSY: &str = "BUSYGROUP Consumer Group name already exists";
/// A negative ENTRIESREAD other than -1.
pub const XGROUP_ENTRIES_READ: &str = "ERR value for ENTRIESREAD must be positive or -1";
/// XSETID ENTRIESADDED below 0.
pub const XSETID_ENTRIES_ADDED: &str = "ERR entries_added must be positive";
/// XSETID with a MAXDELETEDID above the ID.
pub const XSETID_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
/// XSETID below the last entry.
pub const XSETID_TOO_SMALL: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
/// XSETID ENTRIESADDED below the length.
pub const XSETID_ENTRIES_BELOW_LENGTH: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
/// XCLAIM's min-idle-time.
pub const XCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
/// XCLAIM's IDLE.
pub const XCLAIM_IDLE: &str = "ERR Invalid IDLE option argument for XCLAIM";
/// XCLAIM's TIME.
pub const XCLAIM_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
/// XCLAIM's RETRYCOUNT.
pub const XCLAIM_RETRYCOUNT: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
/// XAUTOCLAIM's min-idle-time.
pub const XAUTOCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
/// XAUTOCLAIM's COUNT.
pub const XAUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";

/// `ERR index out of range`
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// `ERR DB index is out of range`
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// `ERR invalid DB index`
pub const INVALID_DB_INDEX: &str = "ERR invalid DB index";
/// `ERR source and destination objects are the same`
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
/// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// `ERR offset is out of range`
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
/// Sent to a connection refused because `maxclients` clients are connected.
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
/// Sent to a non-loopback connection refused by protected mode (no password set): Redis
/// 7.0's words, which tell the operator every way out.
pub const PROTECTED_MODE_DENIED: &str = concat!(
    "DENIED Redis is running in protected mode because protected mode is enabled and no ",
    "password is set for the default user. In this mode connections are only accepted from ",
    "the loopback interface. If you want to connect from external computers to Redis you may ",
    "adopt one of the following solutions: 1) Just disable protected mode sending the command ",
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from ",
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible ",
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) ",
    "Alternatively you can just disable the protected mode by editing the Redis configuration ",
    "file, and setting the protected mode option to 'no', and then restarting the server. 3) ",
    "If you started the server manually just for testing, restart it with the ",
    "'--protected-mode no' option. 4) Setup a an authentication password for the default ",
    "user. NOTE: You only need to do one of the above things in order for the server to start ",
    "accepting connections from the outside."
);
/// `NOAUTH Authentication required.`
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// An ACL refused a key (Redis's processCommand text).
pub const NOPERM_KEY: &str =
    "NOPERM this user has no permissions to access one of the keys used as arguments";
/// An ACL refused a channel.
pub const NOPERM_CHANNEL: &str =
    "NOPERM this user has no permissions to access one of the channels used as arguments";

/// An ACL refused the command itself.
pub fn noperm_command(fullname: &str) -> CmdError {
    CmdError::Other(format!(
        "NOPERM this user has no permissions to run the '{fullname}' command"
    ))
}

/// `WRONGPASS ...`
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// AUTH without a configured password.
pub const AUTH_NOT_CONFIGURED: &str =
    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/// `ERR NX and XX, GT or LT options at the same time are not compatible`
pub const NX_XX_GT_LT: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
/// `ERR GT, LT, and/or NX options at the same time are not compatible`
pub const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
/// MULTI inside MULTI.
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
/// EXEC without MULTI.
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
/// DISCARD without MULTI.
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
/// WATCH inside MULTI.
pub const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
/// The reply of an EXEC refused before it ran (Redis's `execCommandAbort`): the refusal,
/// prefixed `EXECABORT Transaction discarded because of: `.
pub fn exec_abort(refusal: &CmdError) -> CmdError {
    let bytes = refusal.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    CmdError::Other(format!(
        "EXECABORT Transaction discarded because of: {}",
        text.trim_start_matches('-')
    ))
}

/// EXEC after a queueing error.
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
/// `-READONLY` on a read-only replica.
pub const READONLY: &str = "READONLY You can't write against a read only replica.";
/// `-MASTERDOWN` with replica-serve-stale-data no.
pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
/// `-LOADING` while a dataset loads.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
/// `-NOREPLICAS` under min-replicas-to-write.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
/// The reply of a client CLIENT UNBLOCK ... ERROR ended.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
/// A command that adds data while memory is over `maxmemory` and nothing can be evicted.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// `-MISCONF` after a failed background save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
/// RESTORE onto an existing key without REPLACE.
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
/// RESTORE with a payload whose footer is wrong.
pub const DUMP_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
/// RESTORE with a payload whose body is wrong.
pub const BAD_DATA_FORMAT: &str = "ERR Bad data format";
/// RESTORE with a negative TTL.
pub const RESTORE_TTL: &str = "ERR Invalid TTL value, must be >= 0";
/// RESTORE with a negative IDLETIME.
pub const RESTORE_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
/// RESTORE with a FREQ outside 0..=255.
pub const RESTORE_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
/// REPLICAOF arriving in our master's stream (no master propagates it; replikv's own).
pub const REPLICAOF_FROM_MASTER: &str = "ERR REPLICAOF is not allowed from the master link";
/// `REPLCONF rdb-channel` naming a connection that was not offered a dual-channel sync
/// (replikv's own).
pub const RDB_CHANNEL_UNKNOWN: &str =
    "ERR REPLCONF rdb-channel names no connection waiting for a dual-channel sync";
/// PSYNC or SYNC while a coordinated failover runs.
pub const SYNC_WHILE_FAILING_OVER: &str = "NOMASTERLINK Can't SYNC while failing over";
/// PSYNC ... FAILOVER sent to a master.
pub const PSYNC_FAILOVER_TO_MASTER: &str = "ERR PSYNC FAILOVER can't be sent to a master.";
/// PSYNC ... FAILOVER naming another history.
pub const PSYNC_FAILOVER_REPLID: &str = "ERR PSYNC FAILOVER replid must match my replid.";
/// REPLICAOF while a coordinated failover runs.
pub const REPLICAOF_WHILE_FAILING_OVER: &str = "ERR REPLICAOF not allowed while failing over.";
/// FAILOVER TIMEOUT 0 or negative.
pub const FAILOVER_TIMEOUT: &str = "ERR FAILOVER timeout must be greater than 0";
/// CLIENT PAUSE with a mode other than WRITE or ALL.
pub const CLIENT_PAUSE_MODE: &str = "ERR CLIENT PAUSE mode must be WRITE or ALL";
/// SAVE or BGSAVE while a background save runs.
pub const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
/// A failed SAVE (Redis's bare `shared.err`).
pub const SAVE_FAILED: &str = "ERR";
/// SHUTDOWN whose final save failed (without FORCE).
pub const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
/// DEBUG RELOAD with an unknown option.
pub const DEBUG_RELOAD_OPTIONS: &str =
    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
/// DEBUG RELOAD whose load failed.
pub const DEBUG_RELOAD_LOAD: &str = "ERR Error trying to load the RDB dump, check server logs.";
/// A timeout argument that is not a number.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// A negative timeout.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// A millisecond timeout that is not an integer (CLIENT PAUSE, WAIT).
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
/// A timeout that overflows.
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";
/// A bad CLIENT SETNAME name.
pub const CLIENT_NAME_SPACES: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
/// CLIENT KILL found no client.
pub const NO_SUCH_CLIENT: &str = "ERR No such client";
/// DEBUG refused by enable-debug-command.
pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
/// CONFIG REWRITE without a file.
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
/// A negative count where a positive one is required.
pub const POSITIVE_COUNT: &str = "ERR value is out of range, must be positive";
/// A WAIT on a replica.
pub const WAIT_ON_REPLICA: &str = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";

/// LPOS RANK 0.
pub const LPOS_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// LPOS COUNT that is negative or not a number.
pub const LPOS_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
/// LPOS MAXLEN that is negative or not a number.
pub const LPOS_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
/// LMPOP / ZMPOP / SINTERCARD numkeys below 1.
pub const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
/// LMPOP / ZMPOP COUNT below 1.
pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
/// SINTERCARD / ZINTERCARD numkeys past the arguments.
pub const NUMKEYS_PAST_ARGS: &str = "ERR Number of keys can't be greater than number of args";
/// SINTERCARD / ZINTERCARD LIMIT below 0.
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// HINCRBY on a field that is not an integer.
pub const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
/// HINCRBYFLOAT on a field that is not a float.
pub const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT by an infinite increment.
pub const VALUE_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
/// A count too large to double (HRANDFIELD / ZRANDMEMBER with values).
pub const VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";
/// A count of LONG_MIN (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER).
pub const COUNT_OUT_OF_LONG_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// ZADD NX with XX.
pub const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
/// ZADD INCR with several pairs.
pub const INCR_SINGLE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
/// A score computation that gives NaN.
pub const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
/// A bad BYSCORE bound.
pub const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
/// A bad BYLEX bound.
pub const MIN_MAX_NOT_LEX: &str = "ERR min or max not valid string range item";
/// ZRANGE LIMIT without BYSCORE / BYLEX.
pub const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
/// ZRANGE BYLEX WITHSCORES.
pub const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
/// ZUNIONSTORE WEIGHTS that is not a float.
pub const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";

/// MEMORY PURGE when jemalloc refuses the purge.
pub const MEMORY_PURGE_FAILED: &str = "ERR Error purging dirty pages";
// ---- LCS ----
/// LCS on a key that is not a string.
pub const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
/// LCS with both LEN and IDX.
pub const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
/// LCS over strings of 4 GB.
pub const LCS_TOO_LONG: &str = "ERR String too long for LCS";
/// LCS whose table would pass `proto-max-bulk-len`.
pub const LCS_TOO_MUCH_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
// ---- bitmaps ----
/// A bit offset that is negative, not an integer, or past `proto-max-bulk-len`.
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT with a value other than 0 or 1.
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
/// BITPOS with a bit other than 0 or 1.
pub const BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
/// BITOP NOT with several sources.
pub const BITOP_NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";
/// A BITFIELD type other than i1..i64, u1..u63.
pub const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
/// BITFIELD OVERFLOW with an unknown behaviour.
pub const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
/// BITFIELD_RO with SET or INCRBY.
pub const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";
// ---- geo ----
/// A distance unit other than m, km, ft, mi.
pub const GEO_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
/// A radius that is not a number.
pub const GEO_RADIUS_NOT_NUMERIC: &str = "ERR need numeric radius";
/// A box width that is not a number.
pub const GEO_WIDTH_NOT_NUMERIC: &str = "ERR need numeric width";
/// A box height that is not a number.
pub const GEO_HEIGHT_NOT_NUMERIC: &str = "ERR need numeric height";
/// A negative radius.
pub const GEO_RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
/// A box with a negative side.
pub const GEO_BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
/// A search centred on a member the set does not hold.
pub const GEO_NO_MEMBER: &str = "ERR could not decode requested zset member";
/// COUNT 0 or below in a geo search.
pub const GEO_COUNT_NOT_POSITIVE: &str = "ERR COUNT must be > 0";
/// ANY without COUNT.
pub const GEO_ANY_NEEDS_COUNT: &str = "ERR the ANY argument requires COUNT argument";

/// A command that failed; the text is what the client receives after `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// One of the fixed texts above.
    Fixed(&'static str),
    /// `ERR wrong number of arguments for '<name>' command`.
    WrongArity(String),
    /// A message built from client bytes (unknown command or subcommand), kept as bytes so
    /// the reply is exact even when the client sent invalid UTF-8.
    Raw(Vec<u8>),
    /// `ERR invalid expire time in '<cmd>' command`.
    InvalidExpire(String),
    /// A fully formatted message (the code is part of it).
    Other(String),
}

impl CmdError {
    /// The reply text (without the leading `-`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The reply text as bytes, exact even for client bytes that are not UTF-8.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            CmdError::Raw(b) => b.clone(),
            other => other.to_string().into_bytes(),
        }
    }

    /// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` as Redis 7.0
    /// builds it: the name cut at 128 bytes, arguments added while the list is under 128
    /// bytes, each cut so the list does not pass 128.
    pub fn unknown_command(argv: &[impl AsRef<[u8]>]) -> CmdError {
        let mut msg = b"ERR unknown command '".to_vec();
        let name = argv.first().map(|a| a.as_ref()).unwrap_or(b"");
        msg.extend_from_slice(&name[..name.len().min(128)]);
        msg.extend_from_slice(b"', with args beginning with: ");
        let mut args: Vec<u8> = Vec::new();
        for a in argv.iter().skip(1) {
            if args.len() >= 128 {
                break;
            }
            let a = a.as_ref();
            let room = 128 - args.len();
            args.push(b'\'');
            args.extend_from_slice(&a[..a.len().min(room)]);
            args.extend_from_slice(b"' ");
        }
        msg.extend_from_slice(&args);
        CmdError::Raw(msg)
    }

    /// `ERR at least 1 input key is needed for '<cmd>' command` (ZUNIONSTORE and friends).
    pub fn no_input_keys(command: &str) -> CmdError {
        CmdError::Other(format!(
            "ERR at least 1 input key is needed for '{command}' command"
        ))
    }

    /// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
    /// (Redis's `addReplySubcommandSyntaxError`: a subcommand's own options are wrong).
    pub fn subcommand_syntax(command: &[u8], sub: &[u8]) -> CmdError {
        let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        msg.extend_from_slice(&sub[..sub.len().min(128)]);
        msg.extend_from_slice(b"'. Try ");
        msg.extend(command.iter().map(|c| c.to_ascii_uppercase()));
        msg.extend_from_slice(b" HELP.");
        CmdError::Raw(msg)
    }

    /// `ERR invalid longitude,latitude pair <lon>,<lat>` (C's `%f`: six decimals).
    pub fn geo_invalid_position(longitude: f64, latitude: f64) -> CmdError {
        CmdError::Other(format!(
            "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
        ))
    }

    /// A geo search told to store and to reply with extra fields; `what` names the store
    /// option (`GEOSEARCHSTORE` or `STORE option in GEORADIUS`).
    pub fn geo_store_with_fields(what: &str) -> CmdError {
        CmdError::Other(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ))
    }

    /// GEOSEARCH without exactly one centre or exactly one shape; `choice` lists them,
    /// `command` is the command's name as the client typed it.
    pub fn geo_exactly_one(choice: &str, command: &[u8]) -> CmdError {
        CmdError::quoting(&[
            b"ERR exactly one of ",
            choice.as_bytes(),
            b" can be specified for ",
            command,
        ])
    }

    /// An error made of fixed words around client bytes (`-NOGROUP No such key 'k' ...`).
    pub fn quoting(parts: &[&[u8]]) -> CmdError {
        CmdError::Raw(parts.concat())
    }

    /// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.` (the command as typed, upper-cased).
    pub fn unknown_subcommand(command: &[u8], sub: &[u8]) -> CmdError {
        let mut msg = b"ERR unknown subcommand '".to_vec();
        msg.extend_from_slice(&sub[..sub.len().min(128)]);
        msg.extend_from_slice(b"'. Try ");
        msg.extend(command.iter().map(|c| c.to_ascii_uppercase()));
        msg.extend_from_slice(b" HELP.");
        CmdError::Raw(msg)
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Fixed(s) => f.write_str(s),
            CmdError::WrongArity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            CmdError::Raw(bytes) => f.write_str(&String::from_utf8_lossy(bytes)),
            CmdError::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            CmdError::Other(s) => f.write_str(s),
        }
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError::Fixed(s)
    }
}

/// Result of a command handler.
pub type CmdResult = Result<(), CmdError>;
