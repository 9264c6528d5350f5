;; The keyword prefilter's byte scan: every offset where a keyword starts,
;; ASCII letters matched case-insensitively, 16 offsets at a time with
;; WebAssembly's 128-bit SIMD. The idea is Hyperscan's "Teddy" (also in Rust's
;; aho-corasick crate); this is a small implementation of it written for
;; secgate.
;;
;;  1. Candidates. Every keyword belongs to one of 8 buckets (one bit each).
;;     For each of a keyword's first three bytes k = 0, 1, 2, folded with
;;     `| 0x20`, two 16-entry tables map a byte's low and its high nibble to
;;     the buckets that allow that nibble at position k. `i8x16.swizzle` looks
;;     up 16 bytes at once; AND-ing the six lookups leaves, for each of 16
;;     offsets, the buckets whose keywords may start there. Most blocks of
;;     ordinary text end here, with no candidate.
;;  2. Verification. At a candidate offset the three folded bytes there pick
;;     one of 256 slots (a multiplicative hash); the keywords whose first
;;     three bytes hash to that slot, and those shorter than three bytes, are
;;     compared exactly (a letter in either case, any other byte as itself).
;;     Each match is written out as a hit.
;;
;; src/secrets/keyword-scan-simd.ts builds the tables, copies the content in
;; and reads the hits; src/secrets/keyword-scan-wasm.ts holds this file
;; assembled (test/secrets/keyword-scan-wasm.test.ts proves the two agree).
;;
;; Memory layout (byte addresses):
;;   0   .. 96    the nibble tables: low0 high0 low1 high1 low2 high2
;;   112 .. 120   the entries of the keywords shorter than three bytes lie at
;;                [start, end), u32 byte addresses
;;   128 .. 1156  slot s's entries lie at [start[s], start[s + 1]), u32
;;                byte addresses
;;   1280 .. ...  keyword entries, 32 bytes each (all u32): keyword index,
;;                length, address of its bytes (lower-case) followed by their
;;                fold masks (0x20 for a letter, else 0), then its first four
;;                bytes as little-endian words: the bytes, their fold masks,
;;                and 0xff for each byte the keyword has
;;   after that   keyword bytes, the hits (8 bytes each: offset, keyword
;;                index) and the content, followed by 32 readable bytes
;;                (the last block's loads reach past the content's end)
(module
  (memory (export "memory") 1)

  ;; How many hits the last call of `scan` wrote.
  (global $hit_count (export "hitCount") (mut i32) (i32.const 0))

  ;; Scans offsets [from, end) of the content at address `content` and writes
  ;; hits at `hits`, in offset order, at most `capacity` of them. Returns `end`
  ;; when done, or the first offset whose hits might not have fit (fewer than
  ;; `per_offset` free slots, the most hits one offset can have): the caller
  ;; reads the hits and calls again from there.
  (func (export "scan")
    (param $content i32) (param $from i32) (param $end i32)
    (param $hits i32) (param $capacity i32) (param $per_offset i32)
    (result i32)
    (local $at i32)            ;; the block: offsets at .. at + 15
    (local $table0 v128) (local $table1 v128) (local $table2 v128)
    (local $table3 v128) (local $table4 v128) (local $table5 v128)
    (local $fold v128)
    (local $low_nibble v128)
    (local $bytes v128)
    (local $block v128)        ;; candidate buckets, a byte per offset
    (local $lanes i32)         ;; a bit per offset of the block with a candidate
    (local $lane i32)
    (local $offset i32)
    (local $slot i32)
    (local $short i32)         ;; whether the short keywords are still to be compared
    (local $entry i32)
    (local $entries_end i32)
    (local $length i32)
    (local $keyword i32)
    (local $i i32)
    (local $count i32)
    (local $hit i32)

    ;; The six nibble tables, held in registers for the whole scan.
    (local.set $table0 (v128.load (i32.const 0)))
    (local.set $table1 (v128.load (i32.const 16)))
    (local.set $table2 (v128.load (i32.const 32)))
    (local.set $table3 (v128.load (i32.const 48)))
    (local.set $table4 (v128.load (i32.const 64)))
    (local.set $table5 (v128.load (i32.const 80)))
    (local.set $fold (i8x16.splat (i32.const 0x20)))
    (local.set $low_nibble (i8x16.splat (i32.const 0x0f)))
    (local.set $at (local.get $from))

    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))

        ;; Stage 1: position 0 at the block's offsets, then 1 and 2 (loads one and two bytes on).
        (local.set $bytes
          (v128.or (v128.load (i32.add (local.get $content) (local.get $at))) (local.get $fold)))
        (local.set $block
          (v128.and
            (i8x16.swizzle (local.get $table0) (v128.and (local.get $bytes) (local.get $low_nibble)))
            (i8x16.swizzle (local.get $table1) (i8x16.shr_u (local.get $bytes) (i32.const 4)))))
        (local.set $bytes
          (v128.or (v128.load offset=1 (i32.add (local.get $content) (local.get $at))) (local.get $fold)))
        (local.set $block
          (v128.and
            (local.get $block)
            (v128.and
              (i8x16.swizzle (local.get $table2) (v128.and (local.get $bytes) (local.get $low_nibble)))
              (i8x16.swizzle (local.get $table3) (i8x16.shr_u (local.get $bytes) (i32.const 4))))))
        (local.set $bytes
          (v128.or (v128.load offset=2 (i32.add (local.get $content) (local.get $at))) (local.get $fold)))
        (local.set $block
          (v128.and
            (local.get $block)
            (v128.and
              (i8x16.swizzle (local.get $table4) (v128.and (local.get $bytes) (local.get $low_nibble)))
              (i8x16.swizzle (local.get $table5) (i8x16.shr_u (local.get $bytes) (i32.const 4))))))

        (if (v128.any_true (local.get $block))
          (then
            (local.set $lanes (i8x16.bitmask (i8x16.ne (local.get $block) (v128.const i32x4 0 0 0 0))))
            ;; The last block: drop the offsets at or past the end.
            (local.set $lane (i32.sub (local.get $end) (local.get $at)))
            (if (i32.lt_u (local.get $lane) (i32.const 16))
              (then
                (local.set $lanes
                  (i32.and
                    (local.get $lanes)
                    (i32.sub (i32.shl (i32.const 1) (local.get $lane)) (i32.const 1))))))
            (block $no_more_lanes
              (loop $each_lane
                (br_if $no_more_lanes (i32.eqz (local.get $lanes)))
                (local.set $offset (i32.add (local.get $at) (i32.ctz (local.get $lanes))))
                (local.set $lanes (i32.and (local.get $lanes) (i32.sub (local.get $lanes) (i32.const 1))))
                (if (i32.lt_u (i32.sub (local.get $capacity) (local.get $count)) (local.get $per_offset))
                  (then
                    (global.set $hit_count (local.get $count))
                    (return (local.get $offset))))
                ;; Stage 2: the slot of the three folded bytes here, then the short keywords.
                (local.set $slot
                  (i32.shl
                    (i32.shr_u
                      (i32.mul
                        (i32.and
                          (i32.or (i32.load (i32.add (local.get $content) (local.get $offset))) (i32.const 0x20202020))
                          (i32.const 0x00ffffff))
                        (i32.const 0x9e3779b1))
                      (i32.const 24))
                    (i32.const 2)))
                (local.set $entry (i32.load offset=128 (local.get $slot)))
                (local.set $entries_end (i32.load offset=132 (local.get $slot)))
                (local.set $short (i32.const 1))
                (loop $each_list
                  (block $no_more_entries
                    (loop $each_entry
                      (br_if $no_more_entries (i32.ge_u (local.get $entry) (local.get $entries_end)))
                      (local.set $length (i32.load offset=4 (local.get $entry)))
                      (block $mismatch
                        (br_if $mismatch
                          (i32.gt_u (i32.add (local.get $offset) (local.get $length)) (local.get $end)))
                        ;; The first four bytes in one comparison: (word | folds) & present == keyword word.
                        (br_if $mismatch
                          (i32.ne
                            (i32.and
                              (i32.or
                                (i32.load (i32.add (local.get $content) (local.get $offset)))
                                (i32.load offset=16 (local.get $entry)))
                              (i32.load offset=20 (local.get $entry)))
                            (i32.load offset=12 (local.get $entry))))
                        ;; Bytes 4 .. length - 1, one at a time.
                        (local.set $keyword (i32.load offset=8 (local.get $entry)))
                        (local.set $i (i32.const 4))
                        (block $matched
                          (loop $each_byte
                            (br_if $matched (i32.ge_u (local.get $i) (local.get $length)))
                            (br_if $mismatch
                              (i32.ne
                                (i32.or
                                  (i32.load8_u
                                    (i32.add (i32.add (local.get $content) (local.get $offset)) (local.get $i)))
                                  (i32.load8_u (i32.add (local.get $keyword) (i32.add (local.get $length) (local.get $i)))))
                                (i32.load8_u (i32.add (local.get $keyword) (local.get $i)))))
                            (local.set $i (i32.add (local.get $i) (i32.const 1)))
                            (br $each_byte)))
                        (local.set $hit (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3))))
                        (i32.store (local.get $hit) (local.get $offset))
                        (i32.store offset=4 (local.get $hit) (i32.load (local.get $entry)))
                        (local.set $count (i32.add (local.get $count) (i32.const 1))))
                      (local.set $entry (i32.add (local.get $entry) (i32.const 32)))
                      (br $each_entry)))
                  ;; Then, once, the keywords shorter than the three bytes the slot was chosen by.
                  (if (local.get $short)
                    (then
                      (local.set $short (i32.const 0))
                      (local.set $entry (i32.load (i32.const 112)))
                      (local.set $entries_end (i32.load (i32.const 116)))
                      (br $each_list))))
                (br $each_lane)))))

        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $blocks)))

    (global.set $hit_count (local.get $count))
    (local.get $end)))
