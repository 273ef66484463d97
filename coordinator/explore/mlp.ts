// A small multi-layer perceptron on Float64Arrays (ReLU hidden layers, linear output, Adam),
// enough for the Q-learning walkers: a few thousand parameters, trained on at most 1,000 samples.
import type { Rng } from './rng.ts';

interface Layer {
  inputs: number;
  outputs: number;
  /** Row-major [outputs][inputs]. */
  w: Float64Array;
  b: Float64Array;
  // Adam moments
  mw: Float64Array; vw: Float64Array; mb: Float64Array; vb: Float64Array;
}

export interface MlpOptions {
  learningRate?: number;
}

export class Mlp {
  private readonly layers: Layer[];
  private readonly learningRate: number;
  private step = 0;

  /** sizes = [inputs, hidden..., outputs]; He-initialised from `rng`. */
  constructor(readonly sizes: number[], rng: Rng, options: MlpOptions = {}) {
    if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new RangeError(`Mlp: layer sizes must be positive integers, got ${JSON.stringify(sizes)}`);
    }
    this.learningRate = options.learningRate ?? 1e-3;
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inputs = sizes[l], outputs = sizes[l + 1];
      const scale = Math.sqrt(2 / inputs);
      const w = new Float64Array(inputs * outputs);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * scale;
      this.layers.push({
        inputs, outputs, w, b: new Float64Array(outputs),
        mw: new Float64Array(w.length), vw: new Float64Array(w.length), mb: new Float64Array(outputs), vb: new Float64Array(outputs),
      });
    }
  }

  predict(x: ArrayLike<number>): Float64Array {
    return this.forward(x).at(-1)!;
  }

  /** Copy the weights of a network of the same shape (the target network update). */
  copyFrom(other: Mlp): void {
    this.layers.forEach((layer, l) => {
      layer.w.set(other.layers[l].w);
      layer.b.set(other.layers[l].b);
    });
  }

  /** One Adam step on the mean squared error of output `output[i]` against `target[i]` only
   *  (the Q-learning loss: the other outputs get no gradient). Returns the batch loss. */
  trainOutputs(xs: ArrayLike<number>[], output: number[], target: number[]): number {
    const grads = this.layers.map((layer) => ({ w: new Float64Array(layer.w.length), b: new Float64Array(layer.outputs) }));
    let loss = 0;
    for (let n = 0; n < xs.length; n++) {
      const acts = this.forward(xs[n]);
      const top = acts.length - 1;
      let delta = new Float64Array(this.layers[top - 1].outputs);
      const err = acts[top][output[n]] - target[n];
      loss += err * err;
      delta[output[n]] = (2 * err) / xs.length;
      for (let l = this.layers.length - 1; l >= 0; l--) {
        const layer = this.layers[l], input = acts[l], g = grads[l];
        const back = new Float64Array(layer.inputs);
        for (let o = 0; o < layer.outputs; o++) {
          const d = delta[o];
          if (d === 0) continue;
          g.b[o] += d;
          const row = o * layer.inputs;
          for (let i = 0; i < layer.inputs; i++) {
            g.w[row + i] += d * input[i];
            back[i] += d * layer.w[row + i];
          }
        }
        if (l > 0) for (let i = 0; i < back.length; i++) if (input[i] <= 0) back[i] = 0; // ReLU
        delta = back;
      }
    }
    this.adam(grads);
    return loss / xs.length;
  }

  private forward(x: ArrayLike<number>): Float64Array[] {
    const acts: Float64Array[] = [Float64Array.from(x as ArrayLike<number>)];
    this.layers.forEach((layer, l) => {
      const input = acts[l];
      const out = new Float64Array(layer.outputs);
      for (let o = 0; o < layer.outputs; o++) {
        let s = layer.b[o];
        const row = o * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) s += layer.w[row + i] * input[i];
        out[o] = l + 1 < this.layers.length && s < 0 ? 0 : s;
      }
      acts.push(out);
    });
    return acts;
  }

  private adam(grads: { w: Float64Array; b: Float64Array }[]): void {
    const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    this.step++;
    const c1 = 1 - beta1 ** this.step, c2 = 1 - beta2 ** this.step;
    const update = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array) => {
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= (this.learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    };
    this.layers.forEach((layer, l) => {
      update(layer.w, grads[l].w, layer.mw, layer.vw);
      update(layer.b, grads[l].b, layer.mb, layer.vb);
    });
  }
}
