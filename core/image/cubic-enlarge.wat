;; The two passes of cubic-enlarge.ts in WebAssembly SIMD: each source row stretched across (three
;; channels of one output pixel at a time), then the rows stretched down (16 output bytes at a time).
;; Integer arithmetic exactly as libvips does it (sharp's bytes, which training decodes): 12-bit
;; fixed-point weights, each pass's sum rounded and shifted back, the result saturated to 0-255.
;; Built into cubic-enlarge.wasm by `npm run build:wasm`; tests/core/wasm-kernels.test.ts checks the committed binary is this text's.
;;
;; The caller lays out the memory and passes every address: `src` packed RGB24 (`w` x `h`) with 4
;; bytes to spare; `xs` (byte offsets of the 4 source pixels of each output column) and `xw` (their
;; weights) as int32 x 4 per column; `ys` (byte offsets of the 4 rows each output row reads, in
;; `rows`) and `yw` likewise; `rows` int32 scratch of `h` x `outW` x 3 with 64 bytes to spare; `out`
;; the `outW` x `outH` RGB24 result with 16 bytes to spare. Every group load and store may run past
;; the end of a row into those spare bytes or the next row, which is written after.
(module
  (memory (export "memory") 1)

  ;; (Each tap's pixel is read as R G B and the next byte in four int32 lanes: load32_zero, widened
  ;; twice. The helpers are written out in place: V8 does not inline WebAssembly calls, and a call
  ;; with vector arguments cost a third of the loop.)

  (func (export "enlarge")
    (param $src i32) (param $w i32) (param $h i32) (param $outW i32) (param $outH i32)
    (param $xs i32) (param $xw i32) (param $ys i32) (param $yw i32) (param $rows i32) (param $out i32)
    (local $r i32) (local $i i32) (local $base i32) (local $o i32) (local $t i32) (local $end i32)
    (local $j i32) (local $k i32) (local $stride i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $round v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local.set $round (i32x4.splat (i32.const 2048)))
    (local.set $stride (i32.mul (local.get $outW) (i32.const 3)))
    ;; Across: rows[r][i] = (sum of the 4 taps' weight x channel + 2048) >> 12, three channels at once
    ;; (the fourth lane lands on the next pixel's red and is written over by it).
    (local.set $o (local.get $rows))
    (block $rows_done
      (loop $across_rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $h)))
        (local.set $base (i32.add (local.get $src) (i32.mul (local.get $r) (i32.mul (local.get $w) (i32.const 3)))))
        (local.set $i (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $i) (local.get $outW)))
            (local.set $t (i32.shl (local.get $i) (i32.const 4)))
            (v128.store (local.get $o)
              (i32x4.shr_s
                (i32x4.add
                  (i32x4.add
                    (i32x4.add
                      (i32x4.mul (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $base) (i32.load (i32.add (local.get $xs) (local.get $t)))))))
                        (v128.load32_splat (i32.add (local.get $xw) (local.get $t))))
                      (i32x4.mul (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $base) (i32.load offset=4 (i32.add (local.get $xs) (local.get $t)))))))
                        (v128.load32_splat offset=4 (i32.add (local.get $xw) (local.get $t)))))
                    (i32x4.add
                      (i32x4.mul (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $base) (i32.load offset=8 (i32.add (local.get $xs) (local.get $t)))))))
                        (v128.load32_splat offset=8 (i32.add (local.get $xw) (local.get $t))))
                      (i32x4.mul (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $base) (i32.load offset=12 (i32.add (local.get $xs) (local.get $t)))))))
                        (v128.load32_splat offset=12 (i32.add (local.get $xw) (local.get $t))))))
                  (local.get $round))
                (i32.const 12)))
            (local.set $o (i32.add (local.get $o) (i32.const 12)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $columns)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $across_rows)))
    ;; Down: out[j][k] = clip((sum of the 4 rows' weight x value + 2048) >> 12), 16 bytes at a time; the
    ;; two saturating narrowings (to 16 bits signed, then 8 bits unsigned) are the clip to 0-255.
    (block $out_done
      (loop $down_rows
        (br_if $out_done (i32.ge_u (local.get $j) (local.get $outH)))
        (local.set $t (i32.shl (local.get $j) (i32.const 4)))
        (local.set $c0 (v128.load32_splat (i32.add (local.get $yw) (local.get $t))))
        (local.set $c1 (v128.load32_splat offset=4 (i32.add (local.get $yw) (local.get $t))))
        (local.set $c2 (v128.load32_splat offset=8 (i32.add (local.get $yw) (local.get $t))))
        (local.set $c3 (v128.load32_splat offset=12 (i32.add (local.get $yw) (local.get $t))))
        (local.set $a (i32.add (local.get $rows) (i32.load (i32.add (local.get $ys) (local.get $t)))))
        (local.set $b (i32.add (local.get $rows) (i32.load offset=4 (i32.add (local.get $ys) (local.get $t)))))
        (local.set $c (i32.add (local.get $rows) (i32.load offset=8 (i32.add (local.get $ys) (local.get $t)))))
        (local.set $d (i32.add (local.get $rows) (i32.load offset=12 (i32.add (local.get $ys) (local.get $t)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $j) (local.get $stride))))
        (local.set $end (i32.add (local.get $o) (local.get $stride)))
        (block $bytes_done
          (loop $bytes
            (br_if $bytes_done (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $g0 (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.mul (local.get $c0) (v128.load (local.get $a))) (i32x4.mul (local.get $c1) (v128.load (local.get $b)))) (i32x4.add (i32x4.mul (local.get $c2) (v128.load (local.get $c))) (i32x4.mul (local.get $c3) (v128.load (local.get $d))))) (local.get $round)) (i32.const 12)))
            (local.set $g1 (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a) (i32.const 16)))) (i32x4.mul (local.get $c1) (v128.load (i32.add (local.get $b) (i32.const 16))))) (i32x4.add (i32x4.mul (local.get $c2) (v128.load (i32.add (local.get $c) (i32.const 16)))) (i32x4.mul (local.get $c3) (v128.load (i32.add (local.get $d) (i32.const 16)))))) (local.get $round)) (i32.const 12)))
            (local.set $g2 (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a) (i32.const 32)))) (i32x4.mul (local.get $c1) (v128.load (i32.add (local.get $b) (i32.const 32))))) (i32x4.add (i32x4.mul (local.get $c2) (v128.load (i32.add (local.get $c) (i32.const 32)))) (i32x4.mul (local.get $c3) (v128.load (i32.add (local.get $d) (i32.const 32)))))) (local.get $round)) (i32.const 12)))
            (local.set $g3 (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a) (i32.const 48)))) (i32x4.mul (local.get $c1) (v128.load (i32.add (local.get $b) (i32.const 48))))) (i32x4.add (i32x4.mul (local.get $c2) (v128.load (i32.add (local.get $c) (i32.const 48)))) (i32x4.mul (local.get $c3) (v128.load (i32.add (local.get $d) (i32.const 48)))))) (local.get $round)) (i32.const 12)))
            (v128.store (local.get $o)
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (local.get $g0) (local.get $g1))
                (i16x8.narrow_i32x4_s (local.get $g2) (local.get $g3))))
            (local.set $a (i32.add (local.get $a) (i32.const 64)))
            (local.set $b (i32.add (local.get $b) (i32.const 64)))
            (local.set $c (i32.add (local.get $c) (i32.const 64)))
            (local.set $d (i32.add (local.get $d) (i32.const 64)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $bytes)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $down_rows))))
)
