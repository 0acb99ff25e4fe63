//! Checks of the int16fma reference against the CPU's own instructions (AVX2 VPMADDWD+VPADDD,
//! AVX512-VNNI VPDPWSSD/VPDPWSSDS when present) and against straightforward i128 arithmetic
//! written here, independent of the code under test.

use pelab_sim::int16fma::dfp::{self, DfpTensor};
use pelab_sim::int16fma::{
    dp_exact, dpwssd_slice, hw, vpdpwssd, vpdpwssds, MacInputs, Mode, StreamingMac,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

const I32_MIN: i128 = i32::MIN as i128;
const I32_MAX: i128 = i32::MAX as i128;

/// 16-bit values where products and sums change behaviour.
const EDGE16: [i16; 19] = [
    -32768, -32767, -32766, -16385, -16384, -256, -255, -2, -1, 0, 1, 2, 255, 256, 16383, 16384,
    32766, 32767, -12345,
];

/// Writes straight to the process's stderr, which the test harness does not capture, so the
/// line shows in every `cargo test` run.
fn notice(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{msg}");
}

// ---------- independent arithmetic ----------

fn exact(acc: i32, a: [i16; 2], b: [i16; 2]) -> i128 {
    acc as i128 + (a[0] as i128) * (b[0] as i128) + (a[1] as i128) * (b[1] as i128)
}

fn wrap32(x: i128) -> i32 {
    ((x + (1 << 31)).rem_euclid(1 << 32) - (1 << 31)) as i32
}

fn clamp32(x: i128) -> i32 {
    x.clamp(I32_MIN, I32_MAX) as i32
}

// ---------- CPU oracles written here ----------

/// VPMADDWD + VPADDD over lanes (a multiple of 8), or None without AVX2.
fn cpu_avx2(acc: &mut [i32], a: &[i16], b: &[i16]) -> Option<()> {
    assert_eq!(acc.len() % 8, 0);
    assert!(a.len() == 2 * acc.len() && b.len() == 2 * acc.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            unsafe fn run(acc: &mut [i32], a: &[i16], b: &[i16]) {
                use std::arch::x86_64::*;
                for i in (0..acc.len()).step_by(8) {
                    let s = _mm256_loadu_si256(acc.as_ptr().add(i) as *const __m256i);
                    let x = _mm256_loadu_si256(a.as_ptr().add(2 * i) as *const __m256i);
                    let y = _mm256_loadu_si256(b.as_ptr().add(2 * i) as *const __m256i);
                    let r = _mm256_add_epi32(s, _mm256_madd_epi16(x, y));
                    _mm256_storeu_si256(acc.as_mut_ptr().add(i) as *mut __m256i, r);
                }
            }
            // SAFETY: AVX2 detected; lengths asserted above.
            unsafe { run(acc, a, b) };
            return Some(());
        }
    }
    let _ = (acc, a, b);
    None
}

/// VPDPWSSD / VPDPWSSDS over lanes (a multiple of 16), or None without AVX512-VNNI.
fn cpu_vnni(sat: bool, acc: &mut [i32], a: &[i16], b: &[i16]) -> Option<()> {
    assert_eq!(acc.len() % 16, 0);
    assert!(a.len() == 2 * acc.len() && b.len() == 2 * acc.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("avx512f")
        {
            #[target_feature(enable = "avx512f,avx512vnni")]
            unsafe fn run(sat: bool, acc: &mut [i32], a: &[i16], b: &[i16]) {
                use std::arch::x86_64::*;
                for i in (0..acc.len()).step_by(16) {
                    let s = _mm512_loadu_si512(acc.as_ptr().add(i) as *const _);
                    let x = _mm512_loadu_si512(a.as_ptr().add(2 * i) as *const _);
                    let y = _mm512_loadu_si512(b.as_ptr().add(2 * i) as *const _);
                    let r = if sat {
                        _mm512_dpwssds_epi32(s, x, y)
                    } else {
                        _mm512_dpwssd_epi32(s, x, y)
                    };
                    _mm512_storeu_si512(acc.as_mut_ptr().add(i) as *mut _, r);
                }
            }
            // SAFETY: AVX512F and AVX512-VNNI detected; lengths asserted above.
            unsafe { run(sat, acc, a, b) };
            return Some(());
        }
    }
    let _ = (sat, acc, a, b);
    None
}

// ---------- lane generation ----------

struct Lanes {
    acc: Vec<i32>,
    a: Vec<i16>,
    b: Vec<i16>,
}

fn gen16(rng: &mut ChaCha8Rng) -> i16 {
    match rng.gen_range(0..10) {
        0..=5 => rng.gen(),
        6..=8 => EDGE16[rng.gen_range(0..EDGE16.len())],
        _ => {
            let end: i32 = if rng.gen() { -32768 } else { 32767 };
            (end + rng.gen_range(-3..=3)).clamp(-32768, 32767) as i16
        }
    }
}

/// Random lanes: mixed operand distributions; accumulators uniform, near the INT32 ends, or
/// placed so the exact sum lands within a few units of 2^31-1 or -2^31.
fn random_lanes(rng: &mut ChaCha8Rng, n: usize) -> Lanes {
    let mut l = Lanes {
        acc: Vec::with_capacity(n),
        a: Vec::with_capacity(2 * n),
        b: Vec::with_capacity(2 * n),
    };
    for _ in 0..n {
        let a = [gen16(rng), gen16(rng)];
        let b = [gen16(rng), gen16(rng)];
        let p = exact(0, a, b);
        let acc: i128 = match rng.gen_range(0..8) {
            0..=2 => rng.gen::<i32>() as i128,
            3 => I32_MAX - rng.gen_range(0..(1 << 20)),
            4 => I32_MIN + rng.gen_range(0..(1 << 20)),
            5 => I32_MAX - p + rng.gen_range(-3..=3),
            6 => I32_MIN - p + rng.gen_range(-3..=3),
            _ => rng.gen_range(-(1i128 << 31)..(1 << 31)) >> rng.gen_range(0..31),
        };
        l.acc.push(acc.clamp(I32_MIN, I32_MAX) as i32);
        l.a.extend_from_slice(&a);
        l.b.extend_from_slice(&b);
    }
    l
}

/// Every combination of edge values for (a0, a1, b0, b1), each with accumulators at the INT32
/// ends and placed so the exact sum is 2^31-1 + d or -2^31 + d for d in -2..=2.
fn edge_lanes() -> Lanes {
    let accs_fixed: [i32; 10] = [
        i32::MIN,
        i32::MIN + 1,
        -(1 << 30),
        -1,
        0,
        1,
        1 << 30,
        i32::MAX - (1 << 30),
        i32::MAX - 1,
        i32::MAX,
    ];
    let mut l = Lanes {
        acc: vec![],
        a: vec![],
        b: vec![],
    };
    for &a0 in &EDGE16 {
        for &a1 in &EDGE16 {
            for &b0 in &EDGE16 {
                for &b1 in &EDGE16 {
                    let (a, b) = ([a0, a1], [b0, b1]);
                    let p = exact(0, a, b);
                    let mut accs: Vec<i32> = accs_fixed.to_vec();
                    for d in -2..=2 {
                        for target in [I32_MAX + d, I32_MIN + d] {
                            let acc = target - p;
                            if (I32_MIN..=I32_MAX).contains(&acc) {
                                accs.push(acc as i32);
                            }
                        }
                    }
                    for acc in accs {
                        l.acc.push(acc);
                        l.a.extend_from_slice(&a);
                        l.b.extend_from_slice(&b);
                    }
                }
            }
        }
    }
    // Pad to a multiple of 16 lanes with zero lanes for the vector oracles.
    while !l.acc.len().is_multiple_of(16) {
        l.acc.push(0);
        l.a.extend_from_slice(&[0, 0]);
        l.b.extend_from_slice(&[0, 0]);
    }
    l
}

fn lane(l: &Lanes, i: usize) -> (i32, [i16; 2], [i16; 2]) {
    (
        l.acc[i],
        [l.a[2 * i], l.a[2 * i + 1]],
        [l.b[2 * i], l.b[2 * i + 1]],
    )
}

/// Checks the reference (scalar and slice, both modes) on `l` against i128 arithmetic and,
/// where the CPU has them, against the CPU's instructions. Returns (avx2 ran, vnni ran).
fn check_lanes(l: &Lanes, what: &str) -> (bool, bool) {
    let n = l.acc.len();
    let mut wrap = l.acc.clone();
    let mut sat = l.acc.clone();
    dpwssd_slice(Mode::Wrap, &mut wrap, &l.a, &l.b);
    dpwssd_slice(Mode::Saturate, &mut sat, &l.a, &l.b);
    let mut cpu = l.acc.clone();
    let avx2 = cpu_avx2(&mut cpu, &l.a, &l.b).is_some();
    let mut vw = l.acc.clone();
    let mut vs = l.acc.clone();
    let vnni = cpu_vnni(false, &mut vw, &l.a, &l.b).is_some()
        && cpu_vnni(true, &mut vs, &l.a, &l.b).is_some();
    for i in 0..n {
        let (acc, a, b) = lane(l, i);
        let e = exact(acc, a, b);
        let ctx = || format!("{what} lane {i}: acc={acc} a={a:?} b={b:?} exact={e}");
        assert_eq!(wrap[i], wrap32(e), "wrap slice vs i128, {}", ctx());
        assert_eq!(sat[i], clamp32(e), "saturate slice vs i128, {}", ctx());
        assert_eq!(
            vpdpwssd(acc, a, b),
            wrap32(e),
            "vpdpwssd vs i128, {}",
            ctx()
        );
        assert_eq!(
            vpdpwssds(acc, a, b),
            clamp32(e),
            "vpdpwssds vs i128, {}",
            ctx()
        );
        assert_eq!(dp_exact(acc, a, b) as i128, e, "dp_exact, {}", ctx());
        if avx2 {
            assert_eq!(wrap[i], cpu[i], "wrap vs CPU VPMADDWD+VPADDD, {}", ctx());
        }
        if vnni {
            assert_eq!(wrap[i], vw[i], "wrap vs CPU VPDPWSSD, {}", ctx());
            assert_eq!(sat[i], vs[i], "saturate vs CPU VPDPWSSDS, {}", ctx());
        }
    }
    (avx2, vnni)
}

fn report_avx2(ran: bool) {
    if !ran {
        notice(
            "CHECK NOT RUN: avx2 not available on this CPU; wrap mode not compared with \
             VPMADDWD+VPADDD",
        );
    }
}

// ---------- the instruction ----------

#[test]
fn wrap_matches_cpu_vpmaddwd_on_16m_random_lanes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0001);
    let mut ran = true;
    for batch in 0..16 {
        let l = random_lanes(&mut rng, 1 << 20);
        ran &= check_lanes(&l, &format!("random batch {batch}")).0;
    }
    report_avx2(ran);
    if hw::avx2_available() {
        assert!(ran, "AVX2 present but the oracle did not run");
    }
}

#[test]
fn saturate_matches_i128_on_16m_random_lanes() {
    // Same checks as above on a different stream; the saturate comparison is against i128.
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0002);
    for batch in 0..16 {
        let l = random_lanes(&mut rng, 1 << 20);
        check_lanes(&l, &format!("random batch {batch}"));
    }
}

#[test]
fn edge_lanes_match_cpu_and_i128() {
    let l = edge_lanes();
    assert!(l.acc.len() > 1_000_000, "{} edge lanes", l.acc.len());
    let (avx2, _) = check_lanes(&l, "edge");
    report_avx2(avx2);
    // A few lanes spelled out, values worked by hand.
    let m = -32768i16;
    assert_eq!(vpdpwssd(0, [m, m], [m, m]), i32::MIN); // 2^31 wraps to -2^31
    assert_eq!(vpdpwssds(0, [m, m], [m, m]), i32::MAX);
    assert_eq!(vpdpwssd(-1, [m, m], [m, m]), i32::MAX); // 2^31 - 1 fits
    assert_eq!(vpdpwssds(-1, [m, m], [m, m]), i32::MAX);
    assert_eq!(vpdpwssds(-2, [m, m], [m, m]), i32::MAX - 1);
    assert_eq!(vpdpwssds(i32::MIN, [m, m], [m, m]), 0);
    assert_eq!(vpdpwssd(i32::MIN, [m, m], [m, m]), 0);
    assert_eq!(vpdpwssds(i32::MIN, [m, 32767], [32767, 32767]), i32::MIN);
    assert_eq!(vpdpwssd(i32::MIN, [m, 0], [1, 0]), i32::MAX - 32767);
    assert_eq!(vpdpwssds(i32::MAX, [1, 0], [1, 0]), i32::MAX);
    assert_eq!(vpdpwssd(i32::MAX, [1, 0], [1, 0]), i32::MIN);
}

#[test]
fn vnni_hardware_oracle() {
    if !hw::vnni_available() {
        let msg = "CHECK NOT RUN: avx512vnni not available on this CPU; vpdpwssd(s) not \
                   compared with the hardware instruction (VPDPWSSD/VPDPWSSDS)";
        notice(msg);
        println!("{msg}");
        assert!(
            std::env::var("PELAB_REQUIRE_VNNI").map_or(true, |v| v != "1"),
            "PELAB_REQUIRE_VNNI=1 but this CPU has no AVX512-VNNI"
        );
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0003);
    let mut ran = check_lanes(&edge_lanes(), "edge").1;
    for batch in 0..10 {
        let l = random_lanes(&mut rng, 1 << 20);
        ran &= check_lanes(&l, &format!("random batch {batch}")).1;
    }
    assert!(ran, "vnni_available() said yes but the oracle did not run");
    notice("CHECK RAN: int16fma reference equals VPDPWSSD/VPDPWSSDS on 10M+ lanes");
}

#[test]
fn hw_module_agrees_with_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0004);
    for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 33, 1000, 4099] {
        let l = random_lanes(&mut rng, n);
        let mut want_w = l.acc.clone();
        let mut want_s = l.acc.clone();
        dpwssd_slice(Mode::Wrap, &mut want_w, &l.a, &l.b);
        dpwssd_slice(Mode::Saturate, &mut want_s, &l.a, &l.b);

        let mut got = l.acc.clone();
        match hw::dpwssd_avx2(&mut got, &l.a, &l.b) {
            Ok(()) => assert_eq!(got, want_w, "hw::dpwssd_avx2, n={n}"),
            Err(e) => {
                assert!(!hw::avx2_available());
                assert!(e.to_string().contains("avx2"), "{e}");
            }
        }
        for (sat, want) in [(false, &want_w), (true, &want_s)] {
            let mut got = l.acc.clone();
            let r = if sat {
                hw::dpwssds_vnni(&mut got, &l.a, &l.b)
            } else {
                hw::dpwssd_vnni(&mut got, &l.a, &l.b)
            };
            match r {
                Ok(()) => assert_eq!(&got, want, "hw vnni sat={sat}, n={n}"),
                Err(e) => {
                    assert!(!hw::vnni_available());
                    assert!(e.to_string().contains("avx512vnni"), "{e}");
                    assert_eq!(got, l.acc, "failed call must leave acc alone");
                }
            }
        }
    }
    let mut acc = vec![0i32; 3];
    assert!(hw::dpwssd_avx2(&mut acc, &[0; 5], &[0; 6]).is_err());
    assert!(hw::dpwssd_vnni(&mut acc, &[0; 6], &[0; 4]).is_err());
}

#[test]
#[should_panic(expected = "2 values per accumulator lane")]
fn slice_kernel_rejects_bad_layout() {
    let mut acc = [0i32; 2];
    dpwssd_slice(Mode::Wrap, &mut acc, &[1, 2, 3], &[1, 2, 3, 4]);
}

#[test]
fn saturation_sticks_while_wrap_recovers() {
    let m = -32768i16;
    // +2^31 (clamps), then -2^30 twice, then +2^30 - ... : exact path 2^31, 2^30, 0.
    let steps: [([i16; 2], [i16; 2]); 3] =
        [([m, m], [m, m]), ([m, 0], [32767, 0]), ([m, 0], [32767, 0])];
    let mut w = StreamingMac::new(Mode::Wrap);
    let mut s = StreamingMac::new(Mode::Saturate);
    let mut exact_sum: i128 = 0;
    for (a, b) in steps {
        w.step(a, b);
        s.step(a, b);
        exact_sum += exact(0, a, b);
    }
    // exact = 2^31 - 2*32768*32767 = 65536
    assert_eq!(exact_sum, 65536);
    assert_eq!(w.acc(), 65536, "wrap returns to the exact value");
    // saturate: 2^31-1, then 2^31-1-1073709056 = 1073774591, then 65535: one unit lost for good.
    assert_eq!(s.acc(), 65535, "saturate keeps the clamp error");

    // Once at the top, positive steps keep it there; a negative step leaves from 2^31-1.
    let mut s = StreamingMac::new(Mode::Saturate);
    for _ in 0..5 {
        assert_eq!(s.step([m, m], [m, m]), i32::MAX);
    }
    assert_eq!(s.step([-1, 0], [1, 0]), i32::MAX - 1);
    // Going down by 2*32768*32767 = 2147418112 per step: -2147418112, then stuck at -2^31.
    let mut s = StreamingMac::new(Mode::Saturate);
    let got: Vec<i32> = (0..5).map(|_| s.step([m, m], [32767, 32767])).collect();
    assert_eq!(
        got,
        vec![-2147418112, i32::MIN, i32::MIN, i32::MIN, i32::MIN]
    );
    assert_eq!(s.acc(), i32::MIN);
}

#[test]
fn wrap_is_exact_whenever_final_sum_fits() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0005);
    let mut wrapped_intermediate = 0;
    let mut sat_wrong = 0;
    let mut final_outside = 0;
    for _ in 0..20_000 {
        // Climb past an INT32 end with large same-sign products, come back with the negated
        // products in another order, then add a few random steps.
        let half = rng.gen_range(1..100);
        let sign: i16 = if rng.gen() { 1 } else { -1 };
        let mut up = vec![];
        for _ in 0..half {
            let a = [
                rng.gen_range(16000..=32767i16) * sign,
                rng.gen_range(0..=32767i16) * sign,
            ];
            let b = [rng.gen_range(16000..=32767i16), rng.gen_range(0..=32767i16)];
            up.push((a, b));
        }
        let mut down: Vec<_> = up.iter().map(|&(a, b)| ([-a[0], -a[1]], b)).collect();
        down.shuffle(&mut rng);
        let mut steps = up;
        steps.extend(down);
        for _ in 0..rng.gen_range(0..4) {
            steps.push((
                [gen16(&mut rng), gen16(&mut rng)],
                [gen16(&mut rng), gen16(&mut rng)],
            ));
        }
        let start: i32 = if rng.gen_ratio(1, 4) {
            rng.gen()
        } else {
            rng.gen_range(-(1 << 20)..(1 << 20))
        };
        let mut run = start as i128;
        let mut left = false;
        for &(a, b) in &steps {
            run += exact(0, a, b);
            left |= !(I32_MIN..=I32_MAX).contains(&run);
        }
        let (mut w, mut s) = (start, start);
        for &(a, b) in &steps {
            w = vpdpwssd(w, a, b);
            s = vpdpwssds(s, a, b);
        }
        assert_eq!(w, wrap32(run), "wrap is the exact sum mod 2^32");
        if (I32_MIN..=I32_MAX).contains(&run) {
            assert_eq!(w as i128, run, "wrap must be exact when the final sum fits");
            if left {
                wrapped_intermediate += 1;
                sat_wrong += (s as i128 != run) as usize;
            }
        } else {
            final_outside += 1;
        }
    }
    assert!(
        wrapped_intermediate > 10_000,
        "only {wrapped_intermediate} cases wrapped midway"
    );
    assert!(
        sat_wrong > 10_000,
        "saturate differed in only {sat_wrong} such cases"
    );
    assert!(final_outside > 0);
}

// ---------- streaming MAC ----------

#[test]
fn streaming_mac_matches_fold() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0006);
    for mode in Mode::ALL {
        let mut mac = StreamingMac::new(mode);
        assert_eq!(mac.acc(), 0);
        assert_eq!(mac.mode(), mode);
        let mut model: i128 = 0;
        for cycle in 0..500_000 {
            let inp = MacInputs {
                reset: rng.gen_ratio(1, 500),
                clear: rng.gen_ratio(1, 100),
                en: rng.gen_ratio(9, 10),
                a: [gen16(&mut rng), gen16(&mut rng)],
                b: [gen16(&mut rng), gen16(&mut rng)],
            };
            // Straightforward fold with the documented priority.
            if inp.reset || inp.clear {
                model = 0;
            } else if inp.en {
                let s = model + exact(0, inp.a, inp.b);
                model = match mode {
                    Mode::Wrap => wrap32(s) as i128,
                    Mode::Saturate => clamp32(s) as i128,
                };
            }
            let out = mac.clock(&inp);
            assert_eq!(out as i128, model, "{mode:?} cycle {cycle} {inp:?}");
            assert_eq!(mac.acc(), out);
        }
    }
}

#[test]
fn streaming_mac_control_priority() {
    let a = [1000i16, -7];
    let b = [3i16, 5];
    let mut mac = StreamingMac::new(Mode::Wrap);
    assert_eq!(mac.step(a, b), 2965);
    let hold = MacInputs {
        a,
        b,
        ..Default::default()
    };
    assert_eq!(mac.clock(&hold), 2965, "en low holds");
    let clear_en = MacInputs {
        clear: true,
        en: true,
        a,
        b,
        ..Default::default()
    };
    assert_eq!(
        mac.clock(&clear_en),
        0,
        "clear beats en and ignores the operands"
    );
    mac.step(a, b);
    let reset_only = MacInputs {
        reset: true,
        en: true,
        a,
        b,
        ..Default::default()
    };
    assert_eq!(mac.clock(&reset_only), 0, "reset beats en");
    mac.step(a, b);
    mac.step(a, b);
    assert_eq!(mac.acc(), 5930);
    mac.clear();
    assert_eq!(mac.acc(), 0);
}

// ---------- DFP-16 ----------

/// Smallest e with |x| < 2^e (x != 0), found by stepping powers of two in f64.
fn exponent_of(x: f32) -> i32 {
    let x = (x as f64).abs();
    let mut e = 0i32;
    while x >= 2f64.powi(e) {
        e += 1;
    }
    while x < 2f64.powi(e - 1) {
        e -= 1;
    }
    e
}

/// Round half to even, written out.
fn rne(v: f64) -> f64 {
    let f = v.floor();
    let frac = v - f;
    if frac > 0.5 || (frac == 0.5 && f % 2.0 != 0.0) {
        f + 1.0
    } else {
        f
    }
}

fn random_tensor(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    let k = rng.gen_range(-60..60);
    let tail = rng.gen_bool(0.3);
    // Sometimes the largest element has a mantissa within 2^-16 of 1, which headroom 0 clamps.
    let near_one = rng.gen_ratio(1, 10).then(|| {
        let j = rng.gen_range(16..=24);
        let s = if rng.gen() { 1.0 } else { -1.0 };
        (
            rng.gen_range(0..n),
            s * (1.0 - 2f64.powi(-j)) * 2f64.powi(k + 12),
        )
    });
    (0..n)
        .map(|i| {
            if let Some((at, v)) = near_one {
                if at == i {
                    return v as f32;
                }
            }
            let mut v = rng.gen_range(-1.0f64..1.0) * 2f64.powi(k);
            if tail && rng.gen_ratio(1, 20) {
                v *= 2f64.powi(rng.gen_range(0..12));
            }
            if rng.gen_ratio(1, 50) {
                v = 0.0;
            }
            v as f32
        })
        .collect()
}

#[test]
fn dfp_frexp_matches_powers_of_two() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0007);
    let mut xs: Vec<f32> = (0..200_000)
        .map(|_| f32::from_bits(rng.gen::<u32>() & 0x7FFF_FFFF))
        .filter(|x| x.is_finite() && *x != 0.0)
        .collect();
    xs.extend([
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
        1.0,
        0.5,
        0.75,
        0.99999994,
    ]);
    for x in xs {
        for s in [1.0f32, -1.0] {
            let (m, e) = dfp::frexp(x * s);
            assert_eq!(e, exponent_of(x), "frexp({}) exponent", x * s);
            assert_eq!(
                m as f64 * 2f64.powi(e),
                (x * s) as f64,
                "frexp({}) = {m} * 2^{e}",
                x * s
            );
            assert!((0.5..1.0).contains(&m.abs()), "mantissa {m} of {x}");
        }
    }
    assert_eq!(dfp::frexp(0.0), (0.0, 0));
}

#[test]
fn dfp_quantize_error_within_half_step() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0008);
    let mut checked = 0usize;
    let mut clamped = 0usize;
    for t in 0..3000 {
        let n = rng.gen_range(1..700);
        let x = random_tensor(&mut rng, n);
        for h in 0..=4u32 {
            let d = dfp::quantize(&x, h).unwrap();
            let max = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scf = if max == 0.0 {
                15 - h as i32
            } else {
                15 - h as i32 - exponent_of(max)
            };
            assert_eq!(d.scf, scf, "tensor {t} headroom {h}");
            assert_eq!(d.q.len(), n);
            let step = 2f64.powi(-scf);
            let deq = dfp::dequantize(&d);
            let mut max_q = 0i32;
            for (i, &v) in x.iter().enumerate() {
                let scaled = v as f64 * 2f64.powi(scf);
                let want = rne(scaled).clamp(-32768.0, 32767.0);
                assert_eq!(d.q[i] as f64, want, "tensor {t} h {h} element {i} = {v}");
                let back = d.q[i] as f64 * step;
                assert_eq!(
                    deq[i] as f64, back,
                    "dequantize is exact in the normal range"
                );
                if (-32768.5..=32767.5).contains(&scaled) {
                    assert!(
                        (back - v as f64).abs() <= step / 2.0,
                        "error above half a step: x={v} back={back} step={step}"
                    );
                    checked += 1;
                } else {
                    clamped += 1;
                    assert_eq!(h, 0, "only headroom 0 can clamp");
                    assert_eq!(d.q[i], 32767);
                }
                max_q = max_q.max((d.q[i] as i32).abs());
            }
            if max > 0.0 {
                // max|x| * 2^scf lies in [2^(14-h), 2^(15-h)); rounding can reach 2^(15-h),
                // which for h = 0 only -32768 represents (+32768 clamps, checked above).
                let lo = 1 << (14 - h);
                let hi = 1 << (15 - h);
                assert!(
                    (lo..=hi).contains(&max_q),
                    "max |q| = {max_q}, headroom {h}"
                );
            }
        }
    }
    assert!(checked > 1_000_000, "{checked} elements checked");
    assert!(clamped > 0, "no clamped element was exercised");
}

#[test]
fn dfp_quantize_known_values() {
    // 1.0 = 0.5 * 2^1: scf = 15 - 2 - 1 = 12, q = 4096.
    let t = dfp::quantize(&[1.0], 2).unwrap();
    assert_eq!((t.q.as_slice(), t.scf), (&[4096i16][..], 12));
    // headroom 0: scf 14, q = 16384; headroom 4: scf 10, q = 1024.
    assert_eq!(dfp::quantize(&[1.0], 0).unwrap().q, vec![16384]);
    assert_eq!(dfp::quantize(&[1.0], 4).unwrap().q, vec![1024]);
    // 0.75 = 0.75 * 2^0: scf = 13.
    let t = dfp::quantize(&[-0.75, 0.5], dfp::DEFAULT_HEADROOM).unwrap();
    assert_eq!((t.q, t.scf), (vec![-6144, 4096], 13));
    // Ties to even: with scf 12, 1.5*2^-12 -> 2, 2.5*2^-12 -> 2, 3.5*2^-12 -> 4, -0.5*2^-12 -> 0.
    let u = 2f32.powi(-12);
    let t = dfp::quantize(&[1.0, 1.5 * u, 2.5 * u, 3.5 * u, -0.5 * u, -1.5 * u], 2).unwrap();
    assert_eq!(t.q, vec![4096, 2, 2, 4, 0, -2]);
    // Headroom 0 clamps: 0.99999994 * 2^15 rounds to 32768 -> 32767; the negative gives -32768.
    let t = dfp::quantize(&[0.99999994, -0.99999994], 0).unwrap();
    assert_eq!((t.q, t.scf), (vec![32767, -32768], 15));
    // All-zero and empty tensors: scf = 15 - headroom, q zero.
    let t = dfp::quantize(&[0.0, -0.0, 0.0], 3).unwrap();
    assert_eq!((t.q, t.scf), (vec![0, 0, 0], 12));
    assert_eq!(dfp::quantize(&[], 2).unwrap().scf, 13);
    // Errors.
    let e = dfp::quantize(&[1.0], 5).unwrap_err().to_string();
    assert!(e.contains("headroom 5") && e.contains("0..=4"), "{e}");
    let e = dfp::quantize(&[1.0, f32::NAN], 2).unwrap_err().to_string();
    assert!(e.contains("element 1"), "{e}");
    assert!(dfp::quantize(&[f32::INFINITY], 2).is_err());
    // More headroom: coarser step, same value range.
    let x = [3.0f32, -1.25, 0.001];
    let steps: Vec<i32> = (0..=4).map(|h| dfp::quantize(&x, h).unwrap().scf).collect();
    assert_eq!(steps, vec![13, 12, 11, 10, 9]);
}

struct RefDot {
    value: f32,
    chunks: usize,
    overflowed: usize,
    transient: usize,
}

/// The chunked dot product written independently: i128 running sums, explicit wrap/clamp.
fn ref_dot(a: &DfpTensor, b: &DfpTensor, chunk: usize, sat: bool) -> RefDot {
    let mut qa = a.q.clone();
    let mut qb = b.q.clone();
    if qa.len() % 2 == 1 {
        qa.push(0);
        qb.push(0);
    }
    let scale = 2f64.powi(-(a.scf + b.scf));
    let mut r = RefDot {
        value: 0.0,
        chunks: 0,
        overflowed: 0,
        transient: 0,
    };
    for (ca, cb) in qa.chunks(chunk).zip(qb.chunks(chunk)) {
        let mut acc: i128 = 0;
        let mut ex: i128 = 0;
        let mut left = false;
        for (pa, pb) in ca.chunks(2).zip(cb.chunks(2)) {
            let p = pa[0] as i128 * pb[0] as i128 + pa[1] as i128 * pb[1] as i128;
            ex += p;
            left |= !(I32_MIN..=I32_MAX).contains(&ex);
            acc = if sat {
                clamp32(acc + p) as i128
            } else {
                wrap32(acc + p) as i128
            };
        }
        r.chunks += 1;
        r.overflowed += !(I32_MIN..=I32_MAX).contains(&ex) as usize;
        r.transient += left as usize;
        r.value += ((acc as i32 as f32) as f64 * scale) as f32;
    }
    r
}

fn check_dot(a: &DfpTensor, b: &DfpTensor, chunk: usize, mode: Mode) -> (usize, usize) {
    let got = dfp::dot(a, b, chunk, mode).unwrap();
    let want = ref_dot(a, b, chunk, mode == Mode::Saturate);
    let ctx = format!("n={} chunk={chunk} {mode:?}", a.q.len());
    assert_eq!(got.chunks, want.chunks, "chunks, {ctx}");
    assert_eq!(
        got.overflowed_chunks, want.overflowed,
        "overflow count, {ctx}"
    );
    assert_eq!(
        got.transient_overflow_chunks, want.transient,
        "transient overflow count, {ctx}"
    );
    assert_eq!(
        got.value.to_bits(),
        want.value.to_bits(),
        "value {} vs {}, {ctx}",
        got.value,
        want.value
    );
    (want.overflowed, want.transient)
}

#[test]
fn dfp_dot_matches_independent_chunked_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_0009);
    let (mut with_ovf, mut without_ovf, mut transient_only) = (0, 0, 0);
    for _ in 0..10_000 {
        let n = rng.gen_range(0..3000);
        let max_pairs = if rng.gen() { 16 } else { 2048 };
        let chunk = 2 * rng.gen_range(1..=max_pairs);
        let kind = rng.gen_range(0..4);
        let gen_q = |r: &mut ChaCha8Rng, i: usize| -> i16 {
            match kind {
                // Built to overflow: large magnitudes, same sign.
                0 => r.gen_range(16000..=32767),
                1 => -r.gen_range(16000..=32767),
                // First half large positive products, second half large negative ones.
                2 => {
                    if i < n / 2 {
                        r.gen_range(20000..=32767)
                    } else {
                        -r.gen_range(20000..=32767)
                    }
                }
                _ => gen16(r),
            }
        };
        let qa: Vec<i16> = (0..n).map(|i| gen_q(&mut rng, i)).collect();
        let qb: Vec<i16> = (0..n)
            .map(|_| {
                if kind < 3 {
                    rng.gen_range(16000..=32767)
                } else {
                    gen16(&mut rng)
                }
            })
            .collect();
        let a = DfpTensor {
            q: qa,
            scf: rng.gen_range(-20..40),
        };
        let b = DfpTensor {
            q: qb,
            scf: rng.gen_range(-20..40),
        };
        for mode in Mode::ALL {
            let (o, t) = check_dot(&a, &b, chunk, mode);
            if o > 0 {
                with_ovf += 1;
            } else {
                without_ovf += 1;
            }
            if t > o {
                transient_only += 1;
            }
        }
    }
    assert!(with_ovf > 500, "{with_ovf} dot products overflowed");
    assert!(
        without_ovf > 200,
        "{without_ovf} dot products did not overflow"
    );
    assert!(
        transient_only > 50,
        "{transient_only} had transient-only overflow"
    );
}

#[test]
fn dfp_dot_odd_length_and_chunking() {
    let a = DfpTensor {
        q: vec![1, 2, 3, 4, 5],
        scf: 0,
    };
    let b = DfpTensor {
        q: vec![10, 20, 30, 40, 50],
        scf: 0,
    };
    // 10+40+90+160+250 = 550; chunk 2 -> pairs (1,2) (3,4) (5,pad): 3 chunks.
    let r = dfp::dot(&a, &b, 2, Mode::Wrap).unwrap();
    assert_eq!((r.value, r.chunks, r.overflowed_chunks), (550.0, 3, 0));
    let r = dfp::dot(&a, &b, 4, Mode::Saturate).unwrap();
    assert_eq!((r.value, r.chunks), (550.0, 2));
    let r = dfp::dot(&a, &b, 6, Mode::Wrap).unwrap();
    assert_eq!((r.value, r.chunks), (550.0, 1));
    // Odd length equals the same tensors with an explicit zero appended.
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_000A);
    for _ in 0..500 {
        let n = 2 * rng.gen_range(0..200) + 1;
        let qa: Vec<i16> = (0..n).map(|_| gen16(&mut rng)).collect();
        let qb: Vec<i16> = (0..n).map(|_| gen16(&mut rng)).collect();
        let chunk = 2 * rng.gen_range(1..40);
        let odd = (
            DfpTensor {
                q: qa.clone(),
                scf: 3,
            },
            DfpTensor {
                q: qb.clone(),
                scf: -1,
            },
        );
        let mut pa = qa;
        let mut pb = qb;
        pa.push(0);
        pb.push(0);
        let even = (DfpTensor { q: pa, scf: 3 }, DfpTensor { q: pb, scf: -1 });
        for mode in Mode::ALL {
            assert_eq!(
                dfp::dot(&odd.0, &odd.1, chunk, mode).unwrap(),
                dfp::dot(&even.0, &even.1, chunk, mode).unwrap()
            );
        }
    }
    // Scaling: 2^-(scf_a + scf_b).
    let a = DfpTensor {
        q: vec![3, 0],
        scf: 4,
    };
    let b = DfpTensor {
        q: vec![5, 0],
        scf: -1,
    };
    assert_eq!(dfp::dot(&a, &b, 2, Mode::Wrap).unwrap().value, 15.0 / 8.0);
    // Scale factors far outside f32's exponent range: the FP32 result overflows or underflows.
    let big = DfpTensor {
        q: vec![1, 0],
        scf: -200,
    };
    assert_eq!(
        dfp::dot(&big, &big, 2, Mode::Wrap).unwrap().value,
        f32::INFINITY
    );
    let tiny = DfpTensor {
        q: vec![-1, 0],
        scf: i32::MAX,
    };
    let r = dfp::dot(&tiny, &big, 2, Mode::Wrap).unwrap().value;
    // The chunk gives -0.0; the FP32 sum starts at +0.0 and +0.0 + -0.0 = +0.0.
    assert!(r == 0.0 && r.is_sign_positive(), "{r}");
    // Empty.
    let e = DfpTensor { q: vec![], scf: 0 };
    let r = dfp::dot(&e, &e, 8, Mode::Wrap).unwrap();
    assert_eq!((r.value, r.chunks), (0.0, 0));
    // Errors.
    for bad in [0usize, 1, 3, 7] {
        let msg = dfp::dot(&a, &b, bad, Mode::Wrap).unwrap_err().to_string();
        assert!(msg.contains("even"), "{msg}");
    }
    let msg = dfp::dot(&a, &e, 2, Mode::Wrap).unwrap_err().to_string();
    assert!(msg.contains("length"), "{msg}");
}

#[test]
fn dfp_dot_close_to_exact_without_overflow() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1616_000B);
    for _ in 0..2000 {
        let n = rng.gen_range(1..1000);
        let x = random_tensor(&mut rng, n);
        let y = random_tensor(&mut rng, n);
        let (qa, qb) = (dfp::quantize(&x, 2).unwrap(), dfp::quantize(&y, 2).unwrap());
        // Headroom 2 keeps |q| <= 2^13, so a chunk of 16 sums to at most 2^30: no overflow.
        let r = dfp::dot(&qa, &qb, 16, Mode::Wrap).unwrap();
        assert_eq!(r.overflowed_chunks, 0);
        let scale = 2f64.powi(-(qa.scf + qb.scf));
        let exact_q: f64 =
            qa.q.iter()
                .zip(&qb.q)
                .map(|(&p, &q)| p as f64 * q as f64 * scale)
                .sum();
        let mag: f64 =
            qa.q.iter()
                .zip(&qb.q)
                .map(|(&p, &q)| (p as f64 * q as f64 * scale).abs())
                .sum();
        // Each chunk conversion, scaling and FP32 addition rounds once: a relative error of at
        // most 2^-24 of the magnitude sum, or 2^-150 absolute where results are subnormal.
        let tol = (mag * 2f64.powi(-24) + 2f64.powi(-149)) * (r.chunks as f64 + 2.0);
        assert!(
            (r.value as f64 - exact_q).abs() <= tol,
            "dot {} vs {exact_q} (tol {tol})",
            r.value
        );
    }
}

// ---------- the registry entry ----------

fn eval(policy: Option<&str>, ops: &[&str]) -> pelab_sim::Result<pelab_sim::model::Evaluation> {
    let pe = pelab_sim::pe::find("int16fma").unwrap();
    let ops: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
    pe.eval("int16", policy, &ops)
}

fn detail<'a>(e: &'a pelab_sim::model::Evaluation, key: &str) -> &'a str {
    e.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no detail {key} in {:?}", e.details))
}

#[test]
fn pe_registry_entry() {
    let pe = pelab_sim::pe::find("int16fma").unwrap();
    assert_eq!(pe.id(), "int16fma");
    assert_eq!(pe.formats(), vec!["int16".to_string()]);
    assert_eq!(pe.policies(), &["wrap", "saturate"]);
    assert!(pe.operand_syntax().starts_with("ACC A0 A1 B0 B1"));
    assert!(!pe.summary().is_empty());
}

#[test]
fn pe_eval_results() {
    // 2^31-1 + 1: wrap to -2^31, saturate stays.
    let e = eval(None, &["7FFFFFFF", "0001", "0000", "0001", "0000"]).unwrap();
    assert_eq!(
        (e.hex.as_str(), e.value.as_str()),
        ("80000000", "-2147483648")
    );
    assert_eq!(detail(&e, "exact_sum"), "2147483648");
    assert_eq!(detail(&e, "left_int32"), "yes");
    let e = eval(Some("saturate"), &["7FFFFFFF", "1", "0", "1", "0"]).unwrap();
    assert_eq!(
        (e.hex.as_str(), e.value.as_str()),
        ("7FFFFFFF", "2147483647")
    );
    // (-32768)^2 twice = 2^31.
    let e = eval(Some("wrap"), &["0", "8000", "8000", "8000", "8000"]).unwrap();
    assert_eq!(
        (e.hex.as_str(), e.value.as_str()),
        ("80000000", "-2147483648")
    );
    assert_eq!(detail(&e, "a0*b0"), "1073741824");
    let e = eval(
        Some("saturate"),
        &["0x0", "0x8000", "0x8000", "0x8000", "0x8000"],
    )
    .unwrap();
    assert_eq!(e.hex, "7FFFFFFF");
    // -1 + (-2)*3 + 4*5 = 13
    let e = eval(None, &["FFFFFFFF", "FFFE", "4", "3", "5"]).unwrap();
    assert_eq!((e.hex.as_str(), e.value.as_str()), ("0000000D", "13"));
    assert_eq!(detail(&e, "left_int32"), "no");
    assert_eq!(detail(&e, "exact_sum"), "13");
    // -2^31 - 1 with saturate
    let e = eval(Some("saturate"), &["80000000", "FFFF", "0", "1", "0"]).unwrap();
    assert_eq!(
        (e.hex.as_str(), e.value.as_str()),
        ("80000000", "-2147483648")
    );
    assert_eq!(detail(&e, "exact_sum"), "-2147483649");
}

#[test]
fn pe_eval_errors() {
    let pe = pelab_sim::pe::find("int16fma").unwrap();
    let ops: Vec<String> = ["0", "0", "0", "0", "0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let msg = pe.eval("fp16", None, &ops).unwrap_err().to_string();
    assert!(msg.contains("int16fma takes format int16"), "{msg}");
    let msg = eval(None, &["0", "0", "0", "0"]).unwrap_err().to_string();
    assert!(
        msg.contains("ACC A0 A1 B0 B1") && msg.contains("got 4"),
        "{msg}"
    );
    let msg = eval(None, &["0", "10000", "0", "0", "0"])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("A0") && msg.contains("16 bits"), "{msg}");
    let msg = eval(None, &["1FFFFFFFF", "0", "0", "0", "0"])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ACC") && msg.contains("32 bits"), "{msg}");
    let msg = eval(None, &["0", "0", "0", "xyz", "0"])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("B0") && msg.contains("not hex"), "{msg}");
    let msg = eval(Some("clamp"), &["0", "0", "0", "0", "0"])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("wrap") && msg.contains("saturate"), "{msg}");
}
