;; Packed RGB24 into a model's three float planes (NCHW) through one lookup table per source channel:
;; the table holds that channel's (value - mean) / std for each of the 256 byte values, worked out in
;; float64 and rounded to float32 by the caller exactly as the TypeScript loop rounds them, so the
;; planes are the same bit for bit. One pass over the pixels, three sequential writes.
;; Built into tensor-planes.wasm by `npm run build:wasm`; tests/core/wasm-kernels.test.ts checks the
;; committed binary is this text's.
(module
  (memory (export "memory") 1)

  ;; `n` pixels at `src`; `lut` holds 3 x 256 float32 (source channel 0, 1, 2); the plane written from
  ;; source channel k starts at `out0`, `out1`, `out2` (the caller's channel order).
  (func (export "planes") (param $src i32) (param $n i32) (param $lut i32) (param $out0 i32) (param $out1 i32) (param $out2 i32)
    (local $i i32) (local $p i32) (local $o i32)
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.mul (local.get $i) (i32.const 3))))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $out0) (local.get $o))
          (f32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
        (f32.store (i32.add (local.get $out1) (local.get $o))
          (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 2)))))
        (f32.store (i32.add (local.get $out2) (local.get $o))
          (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $pixels))))
)
