;; The per-pixel passes of motion detection (ingest/motion.ts), which run over every pixel of every
;; frame of every camera: the 2x2 grey shrink and the background compare. Built into
;; motion-kernel.wasm by `npm run build:wasm`; tests/core/wasm-kernels.test.ts checks the committed binary is this text's.
;;
;; Both passes do the arithmetic of the TypeScript loops they replace in the same order and in the
;; same precision (sums as integers, weights and the background update in float64, stored as float32),
;; so the regions are the same bit for bit; the compare works on four pixels at a time in SIMD.
;;
;; The caller owns the layout of the memory: every address is a parameter. Float arrays are 16-byte
;; aligned and padded to a whole number of four-pixel groups (padding pixels are zero everywhere and
;; so never change).
(module
  (memory (export "memory") 1)

  ;; Grey levels of a frame shrunk by 2 in each direction (RGB24 rows of `rowBytes`, `w` even), each
  ;; 2x2 cell's channels summed as integers and weighted once. Four cells at a time in SIMD: the 8
  ;; pixels of a row are 24 bytes, read as two overlapping 16-byte loads and sorted into channels by a
  ;; shuffle; adding neighbouring bytes pairwise and then the two rows gives each cell's sums. A row
  ;; whose width is not a multiple of 4 cells ends with one pair done one cell at a time.
  (func (export "shrinkHalf") (param $rgb i32) (param $grey i32) (param $w i32) (param $h i32) (param $rowBytes i32)
    (param $r f64) (param $g f64) (param $b f64)
    (local $y i32) (local $x i32) (local $t i32) (local $u i32) (local $out i32) (local $quads i32)
    (local $top0 v128) (local $top1 v128) (local $bot0 v128) (local $bot1 v128)
    (local $rg v128) (local $bb v128) (local $sr v128) (local $sg v128) (local $sb v128)
    (local $R v128) (local $G v128) (local $B v128) (local $lo v128) (local $hi v128)
    (local.set $R (f64x2.splat (local.get $r)))
    (local.set $G (f64x2.splat (local.get $g)))
    (local.set $B (f64x2.splat (local.get $b)))
    (local.set $quads (i32.and (local.get $w) (i32.const -4)))
    (local.set $out (local.get $grey))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $t (i32.add (local.get $rgb) (i32.mul (i32.shl (local.get $y) (i32.const 1)) (local.get $rowBytes))))
        (local.set $u (i32.add (local.get $t) (local.get $rowBytes)))
        (local.set $x (i32.const 0))
        (block $quads_done
          (loop $cells
            (br_if $quads_done (i32.ge_u (local.get $x) (local.get $quads)))
            ;; Bytes 0-15 and 8-23 of the 8 pixels: pixels 0-3 are bytes 0-11 of the first load, pixels
            ;; 4-7 bytes 4-15 of the second (16-31 in the shuffle's numbering).
            (local.set $top0 (v128.load (local.get $t)))
            (local.set $top1 (v128.load offset=8 (local.get $t)))
            (local.set $bot0 (v128.load (local.get $u)))
            (local.set $bot1 (v128.load offset=8 (local.get $u)))
            ;; R0..R7 G0..G7 and B0..B7 of each row, pairs added into 16-bit lanes, then the rows added.
            (local.set $rg (i16x8.add
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 0 3 6 9 20 23 26 29 1 4 7 10 21 24 27 30 (local.get $top0) (local.get $top1)))
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 0 3 6 9 20 23 26 29 1 4 7 10 21 24 27 30 (local.get $bot0) (local.get $bot1)))))
            (local.set $bb (i16x8.add
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 2 5 8 11 22 25 28 31 2 5 8 11 22 25 28 31 (local.get $top0) (local.get $top1)))
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 2 5 8 11 22 25 28 31 2 5 8 11 22 25 28 31 (local.get $bot0) (local.get $bot1)))))
            (local.set $sr (i32x4.extend_low_i16x8_u (local.get $rg)))
            (local.set $sg (i32x4.extend_high_i16x8_u (local.get $rg)))
            (local.set $sb (i32x4.extend_low_i16x8_u (local.get $bb)))
            ;; r*R + g*G + b*B in float64, cells 0-1 then 2-3 (the sums are small: a signed conversion is exact).
            (local.set $lo (f64x2.add
              (f64x2.add
                (f64x2.mul (local.get $R) (f64x2.convert_low_i32x4_s (local.get $sr)))
                (f64x2.mul (local.get $G) (f64x2.convert_low_i32x4_s (local.get $sg))))
              (f64x2.mul (local.get $B) (f64x2.convert_low_i32x4_s (local.get $sb)))))
            (local.set $sr (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sr) (local.get $sr)))
            (local.set $sg (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sg) (local.get $sg)))
            (local.set $sb (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sb) (local.get $sb)))
            (local.set $hi (f64x2.add
              (f64x2.add
                (f64x2.mul (local.get $R) (f64x2.convert_low_i32x4_s (local.get $sr)))
                (f64x2.mul (local.get $G) (f64x2.convert_low_i32x4_s (local.get $sg))))
              (f64x2.mul (local.get $B) (f64x2.convert_low_i32x4_s (local.get $sb)))))
            (v128.store (local.get $out)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (local.get $lo))
                (f32x4.demote_f64x2_zero (local.get $hi))))
            (local.set $t (i32.add (local.get $t) (i32.const 24)))
            (local.set $u (i32.add (local.get $u) (i32.const 24)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $cells)))
        (if (i32.lt_u (local.get $x) (local.get $w))
          (then
            (call $cellPair (local.get $t) (local.get $u) (local.get $out) (local.get $r) (local.get $g) (local.get $b))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))

  ;; Two cells (4 pixels of 2 rows, 3 words a row) one at a time, for the end of a row: masking
  ;; alternate bytes into 16-bit lanes adds both rows' channels in one addition per lane (at most
  ;; 2 x 255 a lane, so no lane spills into the next).
  (func $cellPair (param $t i32) (param $u i32) (param $out i32) (param $r f64) (param $g f64) (param $b f64)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $u0 i32) (local $u1 i32) (local $u2 i32)
    (local $e0 i32) (local $o0 i32) (local $e1 i32) (local $o1 i32) (local $e2 i32) (local $o2 i32)
    (local.set $t0 (i32.load (local.get $t)))
    (local.set $t1 (i32.load offset=4 (local.get $t)))
    (local.set $t2 (i32.load offset=8 (local.get $t)))
    (local.set $u0 (i32.load (local.get $u)))
    (local.set $u1 (i32.load offset=4 (local.get $u)))
    (local.set $u2 (i32.load offset=8 (local.get $u)))
    ;; Little endian: t0 holds R0 G0 B0 R1, t1 G1 B1 R2 G2, t2 B2 R3 G3 B3 (low byte first).
    (local.set $e0 (i32.add (i32.and (local.get $t0) (i32.const 0x00ff00ff)) (i32.and (local.get $u0) (i32.const 0x00ff00ff)))) ;; R0 | B0
    (local.set $o0 (i32.add (i32.and (i32.shr_u (local.get $t0) (i32.const 8)) (i32.const 0x00ff00ff)) (i32.and (i32.shr_u (local.get $u0) (i32.const 8)) (i32.const 0x00ff00ff)))) ;; G0 | R1
    (local.set $e1 (i32.add (i32.and (local.get $t1) (i32.const 0x00ff00ff)) (i32.and (local.get $u1) (i32.const 0x00ff00ff)))) ;; G1 | R2
    (local.set $o1 (i32.add (i32.and (i32.shr_u (local.get $t1) (i32.const 8)) (i32.const 0x00ff00ff)) (i32.and (i32.shr_u (local.get $u1) (i32.const 8)) (i32.const 0x00ff00ff)))) ;; B1 | G2
    (local.set $e2 (i32.add (i32.and (local.get $t2) (i32.const 0x00ff00ff)) (i32.and (local.get $u2) (i32.const 0x00ff00ff)))) ;; B2 | G3
    (local.set $o2 (i32.add (i32.and (i32.shr_u (local.get $t2) (i32.const 8)) (i32.const 0x00ff00ff)) (i32.and (i32.shr_u (local.get $u2) (i32.const 8)) (i32.const 0x00ff00ff)))) ;; R3 | B3
    (f32.store (local.get $out)
      (call $weigh (local.get $r) (local.get $g) (local.get $b)
        (i32.add (i32.and (local.get $e0) (i32.const 0xffff)) (i32.shr_u (local.get $o0) (i32.const 16)))
        (i32.add (i32.and (local.get $o0) (i32.const 0xffff)) (i32.and (local.get $e1) (i32.const 0xffff)))
        (i32.add (i32.shr_u (local.get $e0) (i32.const 16)) (i32.and (local.get $o1) (i32.const 0xffff)))))
    (f32.store offset=4 (local.get $out)
      (call $weigh (local.get $r) (local.get $g) (local.get $b)
        (i32.add (i32.shr_u (local.get $e1) (i32.const 16)) (i32.and (local.get $o2) (i32.const 0xffff)))
        (i32.add (i32.shr_u (local.get $o1) (i32.const 16)) (i32.shr_u (local.get $e2) (i32.const 16)))
        (i32.add (i32.and (local.get $e2) (i32.const 0xffff)) (i32.shr_u (local.get $o2) (i32.const 16))))))

  ;; A cell's grey level from its pixels' channel sums: r*R + g*G + b*B in float64 (the caller's weights:
  ;; BT.601's divided by the cell's pixels, as the TypeScript shrink computes them), stored as float32.
  (func $weigh (param $r f64) (param $g f64) (param $b f64) (param $sr i32) (param $sg i32) (param $sb i32) (result f32)
    (f32.demote_f64
      (f64.add
        (f64.add
          (f64.mul (local.get $r) (f64.convert_i32_s (local.get $sr)))
          (f64.mul (local.get $g) (f64.convert_i32_s (local.get $sg))))
        (f64.mul (local.get $b) (f64.convert_i32_s (local.get $sb))))))

  ;; The background compare (MotionDetector.compare): for each pixel, whether it differs from the
  ;; background (mask) and from the previous frame (moving) by more than `t`, unless a motion mask
  ;; covers it (ignored); the previous frame becomes this one; a pixel unlike the background but still
  ;; for more than `absorb` frames is taken into the background; the background follows the frame at
  ;; rate `a` (`slow` where the pixel changed). Returns how many pixels changed. `n` is a multiple of 4.
  (func (export "compare")
    (param $grey i32) (param $bg i32) (param $prev i32) (param $mask i32) (param $moving i32)
    (param $stable i32) (param $ignored i32) (param $n i32)
    (param $t f64) (param $absorb i32) (param $a f64) (param $slow f64)
    (result i32)
    (local $i i32) (local $changed v128)
    (local $v v128) (local $b v128) (local $p v128)
    (local $vlo v128) (local $vhi v128) (local $blo v128) (local $bhi v128)
    (local $dlo v128) (local $dhi v128)
    (local $free v128) (local $on v128) (local $moved v128) (local $still v128)
    (local $hold v128) (local $take v128) (local $onlo v128) (local $onhi v128)
    (local $nlo v128) (local $nhi v128)
    (local $T v128) (local $ABSORB v128) (local $A v128) (local $SLOW v128) (local $ONE v128)
    (local.set $T (f64x2.splat (local.get $t)))
    (local.set $A (f64x2.splat (local.get $a)))
    (local.set $SLOW (f64x2.splat (local.get $slow)))
    (local.set $ABSORB (i32x4.splat (local.get $absorb)))
    (local.set $ONE (i32x4.splat (i32.const 1)))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (v128.load (i32.add (local.get $grey) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $b (v128.load (i32.add (local.get $bg) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $p (v128.load (i32.add (local.get $prev) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $vlo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $vhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $blo (f64x2.promote_low_f32x4 (local.get $b)))
        (local.set $bhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))
        (local.set $dlo (f64x2.sub (local.get $vlo) (local.get $blo)))
        (local.set $dhi (f64x2.sub (local.get $vhi) (local.get $bhi)))
        ;; Lanes of 32 bits, all ones where true: the pixel is free of masks, changed, moved.
        (local.set $free (i32x4.eq
          (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
            (v128.load32_zero (i32.add (local.get $ignored) (local.get $i)))))
          (v128.const i32x4 0 0 0 0)))
        (local.set $on (v128.and (local.get $free)
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
            (f64x2.gt (f64x2.abs (local.get $dlo)) (local.get $T))
            (f64x2.gt (f64x2.abs (local.get $dhi)) (local.get $T)))))
        (local.set $moved (v128.and (local.get $free)
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
            (f64x2.gt (f64x2.abs (f64x2.sub (local.get $vlo) (f64x2.promote_low_f32x4 (local.get $p)))) (local.get $T))
            (f64x2.gt (f64x2.abs (f64x2.sub (local.get $vhi)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p) (local.get $p)))))
              (local.get $T)))))
        (v128.store32_lane 0 (i32.add (local.get $mask) (local.get $i))
          (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0 (v128.and (local.get $on) (local.get $ONE)) (local.get $ONE)))
        (v128.store32_lane 0 (i32.add (local.get $moving) (local.get $i))
          (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0 (v128.and (local.get $moved) (local.get $ONE)) (local.get $ONE)))
        (v128.store (i32.add (local.get $prev) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))
        ;; An on lane is -1: subtracting counts it.
        (local.set $changed (i32x4.sub (local.get $changed) (local.get $on)))
        ;; Changed but still: count the frames it stays so (hold), or take it into the background once
        ;; it has stayed more than `absorb` of them (take); any other pixel starts counting again.
        (local.set $still (i32x4.add (local.get $ONE)
          (i32x4.extend_low_i16x8_u (v128.load64_zero (i32.add (local.get $stable) (i32.shl (local.get $i) (i32.const 1)))))))
        (local.set $hold (v128.andnot (local.get $on) (local.get $moved)))
        (local.set $take (v128.and (local.get $hold) (i32x4.gt_s (local.get $still) (local.get $ABSORB))))
        (v128.store64_lane 0 (i32.add (local.get $stable) (i32.shl (local.get $i) (i32.const 1)))
          (i16x8.narrow_i32x4_u
            (v128.and (v128.andnot (local.get $hold) (local.get $take)) (local.get $still))
            (local.get $still)))
        ;; background + rate * (frame - background), the rate slow where the pixel changed.
        (local.set $onlo (i64x2.extend_low_i32x4_s (local.get $on)))
        (local.set $onhi (i64x2.extend_high_i32x4_s (local.get $on)))
        (local.set $nlo (f64x2.add (local.get $blo) (f64x2.mul (v128.bitselect (local.get $SLOW) (local.get $A) (local.get $onlo)) (local.get $dlo))))
        (local.set $nhi (f64x2.add (local.get $bhi) (f64x2.mul (v128.bitselect (local.get $SLOW) (local.get $A) (local.get $onhi)) (local.get $dhi))))
        (local.set $nlo (v128.bitselect (local.get $vlo) (local.get $nlo) (i64x2.extend_low_i32x4_s (local.get $take))))
        (local.set $nhi (v128.bitselect (local.get $vhi) (local.get $nhi) (i64x2.extend_high_i32x4_s (local.get $take))))
        (v128.store (i32.add (local.get $bg) (i32.shl (local.get $i) (i32.const 2)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $nlo))
            (f32x4.demote_f64x2_zero (local.get $nhi))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $pixels)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $changed)) (i32x4.extract_lane 1 (local.get $changed)))
      (i32.add (i32x4.extract_lane 2 (local.get $changed)) (i32x4.extract_lane 3 (local.get $changed)))))

  ;; The changed pixels grown by one in every direction (a 3x3 maximum over `mask`, rows of `w`),
  ;; 16 pixels at a time: each row's three source rows OR-ed into `row` (zero on both sides, so the
  ;; image's edges do not wrap into the next row), then that row OR-ed with itself shifted by one
  ;; either way. Loads and stores run up to 15 bytes past a row's end: `out` has 16 bytes to spare,
  ;; and what spills into the next row is written over when that row's turn comes.
  (func (export "dilate") (param $mask i32) (param $out i32) (param $row i32) (param $w i32) (param $h i32)
    (local $y i32) (local $x i32) (local $at i32) (local $above v128) (local $below v128)
    (i32.store8 (i32.sub (local.get $row) (i32.const 1)) (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $up_done
          (loop $up
            (br_if $up_done (i32.ge_u (local.get $x) (local.get $w)))
            (local.set $at (i32.add (local.get $mask) (i32.add (i32.mul (local.get $y) (local.get $w)) (local.get $x))))
            (local.set $above (v128.const i32x4 0 0 0 0))
            (local.set $below (v128.const i32x4 0 0 0 0))
            (if (i32.gt_u (local.get $y) (i32.const 0))
              (then (local.set $above (v128.load (i32.sub (local.get $at) (local.get $w))))))
            (if (i32.lt_u (i32.add (local.get $y) (i32.const 1)) (local.get $h))
              (then (local.set $below (v128.load (i32.add (local.get $at) (local.get $w))))))
            (v128.store (i32.add (local.get $row) (local.get $x))
              (v128.or (v128.or (local.get $above) (local.get $below)) (v128.load (local.get $at))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $up)))
        (i32.store8 (i32.add (local.get $row) (local.get $w)) (i32.const 0))
        (local.set $x (i32.const 0))
        (block $across_done
          (loop $across
            (br_if $across_done (i32.ge_u (local.get $x) (local.get $w)))
            (local.set $at (i32.add (local.get $row) (local.get $x)))
            (v128.store (i32.add (local.get $out) (i32.add (i32.mul (local.get $y) (local.get $w)) (local.get $x)))
              (v128.or
                (v128.or (v128.load (i32.sub (local.get $at) (i32.const 1))) (v128.load (local.get $at)))
                (v128.load (i32.add (local.get $at) (i32.const 1)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $across)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))
)
