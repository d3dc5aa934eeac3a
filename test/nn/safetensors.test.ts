/** safetensors: the exact byte format, round trips, and one-line errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn';

describe('safetensors', () => {
  it('writes the exact format: u64 LE header length, JSON header padded with spaces to 8, raw LE data', () => {
    const a = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const b = new Int32Array([-1, 2]);
    const bytes = encodeSafetensors(
      { 'x.weight': { dtype: 'F32', shape: [2, 3], data: a }, idx: { dtype: 'I32', shape: [2], data: b } },
      { format: 'pt' },
    );
    const json =
      '{"__metadata__":{"format":"pt"},"x.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"idx":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(Number(view.getBigUint64(0, true)), padded.length);
    assert.equal(Buffer.from(bytes.subarray(8, 8 + padded.length)).toString('utf8'), padded);
    assert.equal((8 + padded.length) % 8, 0);
    const data = bytes.subarray(8 + padded.length);
    assert.equal(data.length, 32);
    assert.equal(new DataView(data.buffer, data.byteOffset).getFloat32(8, true), 3.25);
    assert.equal(new DataView(data.buffer, data.byteOffset).getInt32(24, true), -1);
  });

  it('round-trips every dtype, odd header lengths and metadata', () => {
    const tensors = {
      f32: { dtype: 'F32' as const, shape: [3], data: new Float32Array([1, 2, 3]) },
      f64: { dtype: 'F64' as const, shape: [1, 2], data: new Float64Array([Math.PI, -1e300]) },
      i64: { dtype: 'I64' as const, shape: [2], data: new BigInt64Array([1n, -(2n ** 40n)]) },
      u8: { dtype: 'U8' as const, shape: [3], data: new Uint8Array([0, 128, 255]) },
      i16: { dtype: 'I16' as const, shape: [1], data: new Int16Array([-300]) },
      scalar: { dtype: 'F32' as const, shape: [], data: new Float32Array([42]) },
    };
    const { tensors: back, metadata } = decodeSafetensors(
      encodeSafetensors(tensors, { note: 'héllo', config: '{"a":1}' }),
    );
    assert.deepEqual(metadata, { note: 'héllo', config: '{"a":1}' });
    assert.deepEqual(Object.keys(back), Object.keys(tensors));
    for (const [k, t] of Object.entries(tensors)) {
      assert.deepEqual(back[k].shape, t.shape);
      assert.equal(back[k].dtype, t.dtype);
      assert.deepEqual(
        Array.from(back[k].data as ArrayLike<number | bigint>),
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
  });

  it('rejects inconsistent input with one-line messages', () => {
    assert.throws(
      () => encodeSafetensors({ a: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
      /'a' data length must equal the product of shape \[2,2\] \(4\), got 3/,
    );
    assert.throws(
      () => encodeSafetensors({ a: { dtype: 'F64', shape: [2], data: new Float32Array(2) } }),
      /8 bytes per element for F64/,
    );
    assert.throws(() => decodeSafetensors(new Uint8Array(4)), /at least the 8-byte header length/);
    const good = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    assert.throws(
      () => decodeSafetensors(good.subarray(0, good.length - 4)),
      /data_offsets of 'a' must span 8 bytes inside the data/,
    );
  });
});
