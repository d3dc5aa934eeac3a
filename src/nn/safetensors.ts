/**
 * safetensors encode/decode (the format `safetensors.torch` reads and writes): an 8-byte
 * little-endian header length n, an n-byte JSON header {name: {dtype, shape, data_offsets: [begin,
 * end]}} plus an optional "__metadata__" string map, padded with spaces to a multiple of 8, then the
 * raw little-endian tensor bytes, offsets relative to the end of the header.
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';

export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'I16' | 'I8' | 'U8' | 'U16' | 'BOOL';
export type SafetensorsData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

const BYTES: Record<SafetensorsDtype, number> = {
  F32: 4,
  F64: 8,
  I32: 4,
  I64: 8,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  BOOL: 1,
};
const ARRAY: Record<SafetensorsDtype, { new (buf: ArrayBuffer, off: number, len: number): SafetensorsData }> = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  I16: Int16Array,
  I8: Int8Array,
  U8: Uint8Array,
  U16: Uint16Array,
  BOOL: Uint8Array,
};

/** The kit targets little-endian hosts only (every x86/ARM Node); typed arrays are written as is. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  check(LITTLE_ENDIAN, () => 'Error in encodeSafetensors: host must be little-endian, got big-endian.');
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata))
      check(
        typeof v === 'string',
        () => `Error in encodeSafetensors: metadata values must be strings, got ${typeof v} for '${k}'.`,
      );
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    check(
      name !== '__metadata__',
      () => "Error in encodeSafetensors: a tensor name must not be '__metadata__', got it.",
    );
    const t = tensors[name];
    check(
      t.dtype in BYTES,
      () =>
        `Error in encodeSafetensors: dtype of '${name}' must be one of ${Object.keys(BYTES).join(', ')}, got ${t.dtype}.`,
    );
    const numel = t.shape.reduce((a, b) => a * b, 1);
    check(
      t.data.length === numel,
      () =>
        `Error in encodeSafetensors: '${name}' data length must equal the product of shape [${t.shape}] (${numel}), got ${t.data.length}.`,
    );
    const nbytes = numel * BYTES[t.dtype];
    check(
      t.data.byteLength === nbytes,
      () =>
        `Error in encodeSafetensors: '${name}' data must be ${BYTES[t.dtype]} bytes per element for ${t.dtype}, got ${t.data.byteLength / numel}.`,
    );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  check(
    bytes.length >= 8,
    () => `Error in decodeSafetensors: file must hold at least the 8-byte header length, got ${bytes.length} bytes.`,
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  check(
    8 + n <= bytes.length,
    () => `Error in decodeSafetensors: header length must fit in the file (${bytes.length} bytes), got ${n}.`,
  );
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors: Record<string, SafetensorsTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    check(
      dtype in BYTES,
      () =>
        `Error in decodeSafetensors: dtype of '${name}' must be one of ${Object.keys(BYTES).join(', ')}, got ${dtype}.`,
    );
    const numel = shape.reduce((a, b) => a * b, 1);
    check(
      offsets[1] - offsets[0] === numel * BYTES[dtype] && offsets[1] <= dataLen,
      () =>
        `Error in decodeSafetensors: data_offsets of '${name}' must span ${numel * BYTES[dtype]} bytes inside the data, got [${offsets}].`,
    );
    // Copy so the typed array is aligned whatever the header length.
    const copy = bytes.slice(dataStart + offsets[0], dataStart + offsets[1]);
    tensors[name] = { dtype, shape, data: new ARRAY[dtype](copy.buffer, 0, numel) };
  }
  return { tensors, metadata };
}

/** float32 tensors (variables or constants) → safetensors records, in map order. */
export function tensorsToRecords(tensors: Map<string, tf.Tensor>): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of tensors) {
    check(
      t.dtype === 'float32' || t.dtype === 'int32',
      () => `Error in tensorsToRecords: '${name}' must be float32 or int32, got ${t.dtype}.`,
    );
    out[name] = {
      dtype: t.dtype === 'float32' ? 'F32' : 'I32',
      shape: t.shape.slice(),
      data: t.dataSync() as Float32Array | Int32Array,
    };
  }
  return out;
}

/**
 * Assigns decoded records to variables by name. Every variable must be present with the same shape;
 * names in `ignore` (e.g. DT's attention-mask buffers, docs/spec.md §13) and unknown extras are reported back.
 */
export function assignFromRecords(
  variables: Map<string, tf.Variable>,
  records: Record<string, SafetensorsTensor>,
  ignore: (name: string) => boolean = () => false,
): { unused: string[] } {
  for (const [name, v] of variables) {
    const r = records[name];
    check(r !== undefined, () => `Error in assignFromRecords: weights must contain '${name}', got no such tensor.`);
    check(
      r.shape.length === v.shape.length && r.shape.every((d, i) => d === v.shape[i]),
      () => `Error in assignFromRecords: '${name}' must have shape [${v.shape}], got [${r.shape}].`,
    );
    check(r.dtype === 'F32', () => `Error in assignFromRecords: '${name}' must be F32, got ${r.dtype}.`);
    v.assign(tf.tensor(r.data as Float32Array, v.shape, 'float32'));
  }
  const unused = Object.keys(records).filter((k) => !variables.has(k) && !ignore(k));
  return { unused };
}
