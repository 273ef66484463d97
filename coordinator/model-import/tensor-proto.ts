// Shape and (small) contents of a TensorProto: an initializer or a Constant node's value.
import { TensorProto_DataType, type TensorProto } from 'onnx-buf';
import { elementCount, MAX_VALUES, type Known } from './facts.ts';

export function tensorFact(t: TensorProto): Known {
  const shape = t.dims.map(Number);
  const count = elementCount(shape);
  if (count > MAX_VALUES) return { shape };
  const values = tensorValues(t, count);
  return values ? { shape, values } : { shape };
}

/** Reads the data of the numeric types shapes and scales come in; others stay unread. */
function tensorValues(t: TensorProto, count: number): number[] | undefined {
  const D = TensorProto_DataType;
  const raw = t.rawData.length ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  const read = (bytes: number, get: (offset: number) => number) =>
    raw && raw.byteLength >= count * bytes ? Array.from({ length: count }, (_, i) => get(i * bytes)) : undefined;
  switch (t.dataType) {
    case D.INT64: return read(8, (o) => Number(raw!.getBigInt64(o, true))) ?? fromList(t.int64Data.map(Number), count);
    case D.INT32: return read(4, (o) => raw!.getInt32(o, true)) ?? fromList(t.int32Data, count);
    case D.FLOAT: return read(4, (o) => raw!.getFloat32(o, true)) ?? fromList(t.floatData, count);
    case D.DOUBLE: return read(8, (o) => raw!.getFloat64(o, true)) ?? fromList(t.doubleData, count);
    default: return undefined;
  }
}

function fromList(list: number[], count: number): number[] | undefined {
  return list.length === count ? list : undefined;
}
