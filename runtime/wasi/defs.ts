/**
 * Every constant and struct layout of `wasi_snapshot_preview1`, as specified by the witx files of
 * WebAssembly/WASI at tag `snapshot-01` (`phases/snapshot/witx/typenames.witx` and
 * `wasi_snapshot_preview1.witx`). All structs are little-endian with C alignment, as the witx ABI
 * requires. WASIX-only constants live in `runtime/wasix/defs.ts`.
 *
 * @module
 */

// ---- errno (u16) -------------------------------------------------------------------------------

export const ERRNO_SUCCESS = 0;
export const ERRNO_2BIG = 1;
export const ERRNO_ACCES = 2;
export const ERRNO_ADDRINUSE = 3;
export const ERRNO_ADDRNOTAVAIL = 4;
export const ERRNO_AFNOSUPPORT = 5;
export const ERRNO_AGAIN = 6;
export const ERRNO_ALREADY = 7;
export const ERRNO_BADF = 8;
export const ERRNO_BADMSG = 9;
export const ERRNO_BUSY = 10;
export const ERRNO_CANCELED = 11;
export const ERRNO_CHILD = 12;
export const ERRNO_CONNABORTED = 13;
export const ERRNO_CONNREFUSED = 14;
export const ERRNO_CONNRESET = 15;
export const ERRNO_DEADLK = 16;
export const ERRNO_DESTADDRREQ = 17;
export const ERRNO_DOM = 18;
export const ERRNO_DQUOT = 19;
export const ERRNO_EXIST = 20;
export const ERRNO_FAULT = 21;
export const ERRNO_FBIG = 22;
export const ERRNO_HOSTUNREACH = 23;
export const ERRNO_IDRM = 24;
export const ERRNO_ILSEQ = 25;
export const ERRNO_INPROGRESS = 26;
export const ERRNO_INTR = 27;
export const ERRNO_INVAL = 28;
export const ERRNO_IO = 29;
export const ERRNO_ISCONN = 30;
export const ERRNO_ISDIR = 31;
export const ERRNO_LOOP = 32;
export const ERRNO_MFILE = 33;
export const ERRNO_MLINK = 34;
export const ERRNO_MSGSIZE = 35;
export const ERRNO_MULTIHOP = 36;
export const ERRNO_NAMETOOLONG = 37;
export const ERRNO_NETDOWN = 38;
export const ERRNO_NETRESET = 39;
export const ERRNO_NETUNREACH = 40;
export const ERRNO_NFILE = 41;
export const ERRNO_NOBUFS = 42;
export const ERRNO_NODEV = 43;
export const ERRNO_NOENT = 44;
export const ERRNO_NOEXEC = 45;
export const ERRNO_NOLCK = 46;
export const ERRNO_NOLINK = 47;
export const ERRNO_NOMEM = 48;
export const ERRNO_NOMSG = 49;
export const ERRNO_NOPROTOOPT = 50;
export const ERRNO_NOSPC = 51;
export const ERRNO_NOSYS = 52;
export const ERRNO_NOTCONN = 53;
export const ERRNO_NOTDIR = 54;
export const ERRNO_NOTEMPTY = 55;
export const ERRNO_NOTRECOVERABLE = 56;
export const ERRNO_NOTSOCK = 57;
export const ERRNO_NOTSUP = 58;
export const ERRNO_NOTTY = 59;
export const ERRNO_NXIO = 60;
export const ERRNO_OVERFLOW = 61;
export const ERRNO_OWNERDEAD = 62;
export const ERRNO_PERM = 63;
export const ERRNO_PIPE = 64;
export const ERRNO_PROTO = 65;
export const ERRNO_PROTONOSUPPORT = 66;
export const ERRNO_PROTOTYPE = 67;
export const ERRNO_RANGE = 68;
export const ERRNO_ROFS = 69;
export const ERRNO_SPIPE = 70;
export const ERRNO_SRCH = 71;
export const ERRNO_STALE = 72;
export const ERRNO_TIMEDOUT = 73;
export const ERRNO_TXTBSY = 74;
export const ERRNO_XDEV = 75;
export const ERRNO_NOTCAPABLE = 76;

/** Names of every errno, indexed by value (`ERRNO_NAMES[44] === "NOENT"`). */
export const ERRNO_NAMES: readonly string[] = Object.freeze([
  "SUCCESS",
  "2BIG",
  "ACCES",
  "ADDRINUSE",
  "ADDRNOTAVAIL",
  "AFNOSUPPORT",
  "AGAIN",
  "ALREADY",
  "BADF",
  "BADMSG",
  "BUSY",
  "CANCELED",
  "CHILD",
  "CONNABORTED",
  "CONNREFUSED",
  "CONNRESET",
  "DEADLK",
  "DESTADDRREQ",
  "DOM",
  "DQUOT",
  "EXIST",
  "FAULT",
  "FBIG",
  "HOSTUNREACH",
  "IDRM",
  "ILSEQ",
  "INPROGRESS",
  "INTR",
  "INVAL",
  "IO",
  "ISCONN",
  "ISDIR",
  "LOOP",
  "MFILE",
  "MLINK",
  "MSGSIZE",
  "MULTIHOP",
  "NAMETOOLONG",
  "NETDOWN",
  "NETRESET",
  "NETUNREACH",
  "NFILE",
  "NOBUFS",
  "NODEV",
  "NOENT",
  "NOEXEC",
  "NOLCK",
  "NOLINK",
  "NOMEM",
  "NOMSG",
  "NOPROTOOPT",
  "NOSPC",
  "NOSYS",
  "NOTCONN",
  "NOTDIR",
  "NOTEMPTY",
  "NOTRECOVERABLE",
  "NOTSOCK",
  "NOTSUP",
  "NOTTY",
  "NXIO",
  "OVERFLOW",
  "OWNERDEAD",
  "PERM",
  "PIPE",
  "PROTO",
  "PROTONOSUPPORT",
  "PROTOTYPE",
  "RANGE",
  "ROFS",
  "SPIPE",
  "SRCH",
  "STALE",
  "TIMEDOUT",
  "TXTBSY",
  "XDEV",
  "NOTCAPABLE",
]); // deno-fmt-ignore

// ---- rights (u64 bit flags; all fit below 2^30 so they are handled as numbers) ---------------

export const RIGHTS_FD_DATASYNC = 1 << 0;
export const RIGHTS_FD_READ = 1 << 1;
export const RIGHTS_FD_SEEK = 1 << 2;
export const RIGHTS_FD_FDSTAT_SET_FLAGS = 1 << 3;
export const RIGHTS_FD_SYNC = 1 << 4;
export const RIGHTS_FD_TELL = 1 << 5;
export const RIGHTS_FD_WRITE = 1 << 6;
export const RIGHTS_FD_ADVISE = 1 << 7;
export const RIGHTS_FD_ALLOCATE = 1 << 8;
export const RIGHTS_PATH_CREATE_DIRECTORY = 1 << 9;
export const RIGHTS_PATH_CREATE_FILE = 1 << 10;
export const RIGHTS_PATH_LINK_SOURCE = 1 << 11;
export const RIGHTS_PATH_LINK_TARGET = 1 << 12;
export const RIGHTS_PATH_OPEN = 1 << 13;
export const RIGHTS_FD_READDIR = 1 << 14;
export const RIGHTS_PATH_READLINK = 1 << 15;
export const RIGHTS_PATH_RENAME_SOURCE = 1 << 16;
export const RIGHTS_PATH_RENAME_TARGET = 1 << 17;
export const RIGHTS_PATH_FILESTAT_GET = 1 << 18;
export const RIGHTS_PATH_FILESTAT_SET_SIZE = 1 << 19;
export const RIGHTS_PATH_FILESTAT_SET_TIMES = 1 << 20;
export const RIGHTS_FD_FILESTAT_GET = 1 << 21;
export const RIGHTS_FD_FILESTAT_SET_SIZE = 1 << 22;
export const RIGHTS_FD_FILESTAT_SET_TIMES = 1 << 23;
export const RIGHTS_PATH_SYMLINK = 1 << 24;
export const RIGHTS_PATH_REMOVE_DIRECTORY = 1 << 25;
export const RIGHTS_PATH_UNLINK_FILE = 1 << 26;
export const RIGHTS_POLL_FD_READWRITE = 1 << 27;
export const RIGHTS_SOCK_SHUTDOWN = 1 << 28;
export const RIGHTS_SOCK_ACCEPT = 1 << 29;

/** Every right defined by preview1. */
export const RIGHTS_ALL = (1 << 30) - 1;

/** Rights that make sense on a regular file. */
export const RIGHTS_FILE = RIGHTS_FD_DATASYNC | RIGHTS_FD_READ | RIGHTS_FD_SEEK |
  RIGHTS_FD_FDSTAT_SET_FLAGS | RIGHTS_FD_SYNC | RIGHTS_FD_TELL | RIGHTS_FD_WRITE |
  RIGHTS_FD_ADVISE | RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_GET | RIGHTS_FD_FILESTAT_SET_SIZE |
  RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_POLL_FD_READWRITE;

/**
 * Rights that make sense on a directory (as base rights). `fd_read` is included so that reading
 * a directory answers EISDIR, as POSIX does, rather than EBADF.
 */
export const RIGHTS_DIR = RIGHTS_FD_READ | RIGHTS_FD_FDSTAT_SET_FLAGS | RIGHTS_FD_SYNC |
  RIGHTS_FD_ADVISE |
  RIGHTS_PATH_CREATE_DIRECTORY | RIGHTS_PATH_CREATE_FILE | RIGHTS_PATH_LINK_SOURCE |
  RIGHTS_PATH_LINK_TARGET | RIGHTS_PATH_OPEN | RIGHTS_FD_READDIR | RIGHTS_PATH_READLINK |
  RIGHTS_PATH_RENAME_SOURCE | RIGHTS_PATH_RENAME_TARGET | RIGHTS_PATH_FILESTAT_GET |
  RIGHTS_PATH_FILESTAT_SET_SIZE | RIGHTS_PATH_FILESTAT_SET_TIMES | RIGHTS_FD_FILESTAT_GET |
  RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_PATH_SYMLINK | RIGHTS_PATH_REMOVE_DIRECTORY |
  RIGHTS_PATH_UNLINK_FILE | RIGHTS_POLL_FD_READWRITE | RIGHTS_FD_DATASYNC;

/** Rights of a directory that write to the file system. */
export const RIGHTS_DIR_WRITE = RIGHTS_PATH_CREATE_DIRECTORY | RIGHTS_PATH_CREATE_FILE |
  RIGHTS_PATH_LINK_TARGET | RIGHTS_PATH_RENAME_SOURCE | RIGHTS_PATH_RENAME_TARGET |
  RIGHTS_PATH_FILESTAT_SET_SIZE | RIGHTS_PATH_FILESTAT_SET_TIMES | RIGHTS_FD_FILESTAT_SET_TIMES |
  RIGHTS_PATH_SYMLINK | RIGHTS_PATH_REMOVE_DIRECTORY | RIGHTS_PATH_UNLINK_FILE |
  RIGHTS_PATH_LINK_SOURCE;

/** Rights of a file that write to it. */
export const RIGHTS_FILE_WRITE = RIGHTS_FD_WRITE | RIGHTS_FD_ALLOCATE |
  RIGHTS_FD_FILESTAT_SET_SIZE | RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_FD_DATASYNC;

/** Rights of a character device or stream (stdio, pipes). */
export const RIGHTS_STREAM = RIGHTS_FD_READ | RIGHTS_FD_WRITE | RIGHTS_FD_FDSTAT_SET_FLAGS |
  RIGHTS_FD_FILESTAT_GET | RIGHTS_POLL_FD_READWRITE;

/** Rights of a socket. */
export const RIGHTS_SOCKET = RIGHTS_STREAM | RIGHTS_SOCK_SHUTDOWN | RIGHTS_SOCK_ACCEPT;

// ---- filetype (u8) -----------------------------------------------------------------------------

export const FILETYPE_UNKNOWN = 0;
export const FILETYPE_BLOCK_DEVICE = 1;
export const FILETYPE_CHARACTER_DEVICE = 2;
export const FILETYPE_DIRECTORY = 3;
export const FILETYPE_REGULAR_FILE = 4;
export const FILETYPE_SOCKET_DGRAM = 5;
export const FILETYPE_SOCKET_STREAM = 6;
export const FILETYPE_SYMBOLIC_LINK = 7;

// ---- whence (u8) -------------------------------------------------------------------------------

export const WHENCE_SET = 0;
export const WHENCE_CUR = 1;
export const WHENCE_END = 2;

// ---- clockid (u32) -----------------------------------------------------------------------------

export const CLOCKID_REALTIME = 0;
export const CLOCKID_MONOTONIC = 1;
export const CLOCKID_PROCESS_CPUTIME_ID = 2;
export const CLOCKID_THREAD_CPUTIME_ID = 3;

// ---- fdflags (u16) -----------------------------------------------------------------------------

export const FDFLAGS_APPEND = 1 << 0;
export const FDFLAGS_DSYNC = 1 << 1;
export const FDFLAGS_NONBLOCK = 1 << 2;
export const FDFLAGS_RSYNC = 1 << 3;
export const FDFLAGS_SYNC = 1 << 4;
export const FDFLAGS_ALL = (1 << 5) - 1;

// ---- fstflags (u16) ----------------------------------------------------------------------------

export const FSTFLAGS_ATIM = 1 << 0;
export const FSTFLAGS_ATIM_NOW = 1 << 1;
export const FSTFLAGS_MTIM = 1 << 2;
export const FSTFLAGS_MTIM_NOW = 1 << 3;

// ---- lookupflags (u32) -------------------------------------------------------------------------

export const LOOKUPFLAGS_SYMLINK_FOLLOW = 1 << 0;

// ---- oflags (u16) ------------------------------------------------------------------------------

export const OFLAGS_CREAT = 1 << 0;
export const OFLAGS_DIRECTORY = 1 << 1;
export const OFLAGS_EXCL = 1 << 2;
export const OFLAGS_TRUNC = 1 << 3;

// ---- eventtype (u8), eventrwflags (u16), subclockflags (u16) -----------------------------------

export const EVENTTYPE_CLOCK = 0;
export const EVENTTYPE_FD_READ = 1;
export const EVENTTYPE_FD_WRITE = 2;
export const EVENTRWFLAGS_FD_READWRITE_HANGUP = 1 << 0;
export const SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME = 1 << 0;

// ---- sockets: riflags, roflags, siflags, sdflags -----------------------------------------------

export const RIFLAGS_RECV_PEEK = 1 << 0;
export const RIFLAGS_RECV_WAITALL = 1 << 1;
export const ROFLAGS_RECV_DATA_TRUNCATED = 1 << 0;
export const SDFLAGS_RD = 1 << 0;
export const SDFLAGS_WR = 1 << 1;

// ---- preopentype (u8), advice (u8) -------------------------------------------------------------

export const PREOPENTYPE_DIR = 0;

export const ADVICE_NORMAL = 0;
export const ADVICE_SEQUENTIAL = 1;
export const ADVICE_RANDOM = 2;
export const ADVICE_WILLNEED = 3;
export const ADVICE_DONTNEED = 4;
export const ADVICE_NOREUSE = 5;

// ---- signal (u8) -------------------------------------------------------------------------------

export const SIGNAL_NONE = 0;
export const SIGNAL_HUP = 1;
export const SIGNAL_INT = 2;
export const SIGNAL_QUIT = 3;
export const SIGNAL_ILL = 4;
export const SIGNAL_TRAP = 5;
export const SIGNAL_ABRT = 6;
export const SIGNAL_BUS = 7;
export const SIGNAL_FPE = 8;
export const SIGNAL_KILL = 9;
export const SIGNAL_USR1 = 10;
export const SIGNAL_SEGV = 11;
export const SIGNAL_USR2 = 12;
export const SIGNAL_PIPE = 13;
export const SIGNAL_ALRM = 14;
export const SIGNAL_TERM = 15;
export const SIGNAL_CHLD = 16;
export const SIGNAL_CONT = 17;
export const SIGNAL_STOP = 18;
export const SIGNAL_TSTP = 19;
export const SIGNAL_TTIN = 20;
export const SIGNAL_TTOU = 21;
export const SIGNAL_URG = 22;
export const SIGNAL_XCPU = 23;
export const SIGNAL_XFSZ = 24;
export const SIGNAL_VTALRM = 25;
export const SIGNAL_PROF = 26;
export const SIGNAL_WINCH = 27;
export const SIGNAL_POLL = 28;
export const SIGNAL_PWR = 29;
export const SIGNAL_SYS = 30;

// ---- struct layouts (offsets and sizes in bytes) ----------------------------------------------

/** `iovec` / `ciovec`: `buf: u32 @0`, `buf_len: u32 @4`. */
export const IOVEC_SIZE = 8;

/** `dirent`: `d_next: u64 @0`, `d_ino: u64 @8`, `d_namlen: u32 @16`, `d_type: u8 @20`. */
export const DIRENT_SIZE = 24;

/** `fdstat`: `fs_filetype: u8 @0`, `fs_flags: u16 @2`, `fs_rights_base: u64 @8`, `..._inheriting @16`. */
export const FDSTAT_SIZE = 24;

/** `filestat`: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56. */
export const FILESTAT_SIZE = 64;

/** `prestat`: `tag: u8 @0`, `u.dir.pr_name_len: u32 @4`. */
export const PRESTAT_SIZE = 8;

/**
 * `subscription`: `userdata: u64 @0`, `u.tag: u8 @8`, then at @16 either `subscription_clock`
 * (`id: u32 @16`, `timeout: u64 @24`, `precision: u64 @32`, `flags: u16 @40`) or
 * `subscription_fd_readwrite` (`file_descriptor: u32 @16`).
 */
export const SUBSCRIPTION_SIZE = 48;

/**
 * `event`: `userdata: u64 @0`, `error: u16 @8`, `type: u8 @10`, `fd_readwrite.nbytes: u64 @16`,
 * `fd_readwrite.flags: u16 @24`.
 */
export const EVENT_SIZE = 32;

// ---- struct values -----------------------------------------------------------------------------

/** A decoded `filestat`. Times are nanoseconds since the Unix epoch. */
export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** A decoded `fdstat`. */
export interface Fdstat {
  filetype: number;
  flags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

/** A decoded `subscription` (see {@link SUBSCRIPTION_SIZE} for the layout). */
export interface Subscription {
  userdata: bigint;
  type: number;
  /** Clock subscriptions. */
  clockId: number;
  timeout: bigint;
  precision: bigint;
  flags: number;
  /** fd_read / fd_write subscriptions. */
  fd: number;
}

/** A decoded `event`. */
export interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
  flags: number;
}

// ---- struct codecs (little-endian) -------------------------------------------------------------

/** Writes a `filestat` at `ptr`. The caller has bounds-checked `FILESTAT_SIZE` bytes. */
export function writeFilestat(view: DataView, ptr: number, s: Filestat): void {
  view.setBigUint64(ptr, s.dev, true);
  view.setBigUint64(ptr + 8, s.ino, true);
  view.setUint8(ptr + 16, s.filetype);
  for (let i = 17; i < 24; i++) view.setUint8(ptr + i, 0);
  view.setBigUint64(ptr + 24, s.nlink, true);
  view.setBigUint64(ptr + 32, s.size, true);
  view.setBigUint64(ptr + 40, s.atim, true);
  view.setBigUint64(ptr + 48, s.mtim, true);
  view.setBigUint64(ptr + 56, s.ctim, true);
}

/** Reads a `filestat` at `ptr`. */
export function readFilestat(view: DataView, ptr: number): Filestat {
  return {
    dev: view.getBigUint64(ptr, true),
    ino: view.getBigUint64(ptr + 8, true),
    filetype: view.getUint8(ptr + 16),
    nlink: view.getBigUint64(ptr + 24, true),
    size: view.getBigUint64(ptr + 32, true),
    atim: view.getBigUint64(ptr + 40, true),
    mtim: view.getBigUint64(ptr + 48, true),
    ctim: view.getBigUint64(ptr + 56, true),
  };
}

/** Writes an `fdstat` at `ptr`. */
export function writeFdstat(view: DataView, ptr: number, s: Fdstat): void {
  view.setUint8(ptr, s.filetype);
  view.setUint8(ptr + 1, 0);
  view.setUint16(ptr + 2, s.flags, true);
  view.setUint32(ptr + 4, 0, true);
  view.setBigUint64(ptr + 8, s.rightsBase, true);
  view.setBigUint64(ptr + 16, s.rightsInheriting, true);
}

/** Reads an `fdstat` at `ptr`. */
export function readFdstat(view: DataView, ptr: number): Fdstat {
  return {
    filetype: view.getUint8(ptr),
    flags: view.getUint16(ptr + 2, true),
    rightsBase: view.getBigUint64(ptr + 8, true),
    rightsInheriting: view.getBigUint64(ptr + 16, true),
  };
}

/** Writes a `dirent` header at `ptr` (the name follows it, unterminated). */
export function writeDirent(
  view: DataView,
  ptr: number,
  next: bigint,
  ino: bigint,
  namlen: number,
  type: number,
): void {
  view.setBigUint64(ptr, next, true);
  view.setBigUint64(ptr + 8, ino, true);
  view.setUint32(ptr + 16, namlen, true);
  view.setUint32(ptr + 20, type, true); // d_type and 3 bytes of padding
}

/** Reads a `subscription` at `ptr`. */
export function readSubscription(view: DataView, ptr: number): Subscription {
  const type = view.getUint8(ptr + 8);
  const clock = type === EVENTTYPE_CLOCK;
  return {
    userdata: view.getBigUint64(ptr, true),
    type,
    clockId: clock ? view.getUint32(ptr + 16, true) : 0,
    timeout: clock ? view.getBigUint64(ptr + 24, true) : 0n,
    precision: clock ? view.getBigUint64(ptr + 32, true) : 0n,
    flags: clock ? view.getUint16(ptr + 40, true) : 0,
    fd: clock ? -1 : view.getUint32(ptr + 16, true),
  };
}

/** Writes a `subscription` at `ptr` (used by tests and host-side tools). */
export function writeSubscription(view: DataView, ptr: number, s: Subscription): void {
  new Uint8Array(view.buffer, view.byteOffset + ptr, SUBSCRIPTION_SIZE).fill(0);
  view.setBigUint64(ptr, s.userdata, true);
  view.setUint8(ptr + 8, s.type);
  if (s.type === EVENTTYPE_CLOCK) {
    view.setUint32(ptr + 16, s.clockId, true);
    view.setBigUint64(ptr + 24, s.timeout, true);
    view.setBigUint64(ptr + 32, s.precision, true);
    view.setUint16(ptr + 40, s.flags, true);
  } else {
    view.setUint32(ptr + 16, s.fd, true);
  }
}

/** Writes an `event` at `ptr`. */
export function writeEvent(view: DataView, ptr: number, e: Event): void {
  view.setBigUint64(ptr, e.userdata, true);
  view.setUint16(ptr + 8, e.error, true);
  view.setUint8(ptr + 10, e.type);
  view.setUint8(ptr + 11, 0);
  view.setUint32(ptr + 12, 0, true);
  view.setBigUint64(ptr + 16, e.nbytes, true);
  view.setUint16(ptr + 24, e.flags, true);
  view.setUint16(ptr + 26, 0, true);
  view.setUint32(ptr + 28, 0, true);
}

/** Reads an `event` at `ptr`. */
export function readEvent(view: DataView, ptr: number): Event {
  return {
    userdata: view.getBigUint64(ptr, true),
    error: view.getUint16(ptr + 8, true),
    type: view.getUint8(ptr + 10),
    nbytes: view.getBigUint64(ptr + 16, true),
    flags: view.getUint16(ptr + 24, true),
  };
}
