/**
 * Constants of the binary layout (journal/FORMAT.md is the specification).
 *
 * @module
 */

/** The 8 magic bytes that open every journal: ASCII `THAWJRNL`. */
export const MAGIC: Uint8Array = new TextEncoder().encode("THAWJRNL");
/** The format version this codec writes and reads. */
export const FORMAT_VERSION = 1;
/** Size of the file header: magic (8), u16 version, u16 flags, u32 CRC-32 of the first 12 bytes. */
export const HEADER_SIZE = 16;
/** Size of a frame's head: u16 tag, u8 kind version, u8 flags, u32 payload length. */
export const FRAME_HEAD_SIZE = 8;
/** Size of a frame's tail: u32 CRC-32 of head and payload. */
export const FRAME_TAIL_SIZE = 4;
/** Frame overhead: head plus tail. */
export const FRAME_OVERHEAD: number = FRAME_HEAD_SIZE + FRAME_TAIL_SIZE;
/** Largest payload a frame may declare (1 GiB); readers also cap it by the bytes left. */
export const MAX_PAYLOAD = 1 << 30;
