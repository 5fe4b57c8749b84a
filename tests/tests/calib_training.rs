//! Properties of the burn-trained calibrators (no reference library exists for the fuzzy one):
//! identity at init, loss decreases, autodiff gradients match finite differences, the training
//! graph equals the plain-Rust applier, calibration-set ECE improves, exact JSON round trip,
//! CPU and wgpu agree, and bad input gives clear errors.

use qcal_calib::calibrators::{Calibrator, Combine, FuzzyGated, LOG_CLIP, Method, log_clip};
use qcal_calib::metrics::{ece, nll};
use qcal_calib::synthetic::overconfident;
use qcal_calib::train::{
    Batch, FitConfig, FuzzyObjective, LossWeights, Objective, SoftmaxRegressionConfig,
    TrainBackend, autodiff_device, block_on, fit, fit_dirichlet_fixed, fit_softmax_regression,
    value, value_and_grad,
};
use qcal_calib::{CalibError, Outputs, ProbData};

fn features(d: &ProbData) -> Vec<f32> {
    d.probs()
        .iter()
        .map(|&p| log_clip(p, LOG_CLIP) as f32)
        .collect()
}

#[test]
fn every_method_improves_nll_and_round_trips() {
    let d = overconfident(3000, 3, 11, 2.5, 1.8);
    let before = nll(&d);
    let mut cfg = FitConfig::default();
    cfg.dirichlet.fixed = Some((1e-3, 1e-3));
    cfg.fuzzy.steps = 150;
    assert!(fit(Method::Uncalibrated, &d, &cfg, &mut |_, _| {}).is_err());
    for method in Method::FITTED {
        let mut losses = Vec::new();
        let cal = fit(method, &d, &cfg, &mut |_, l| losses.push(l)).unwrap();
        let after = nll(&cal.apply_data(&d));
        if method != Method::Prior {
            assert!(after < before, "{method:?}: NLL {after} not below {before}");
        }
        if losses.len() > 1 {
            assert!(
                losses.last().unwrap() < &losses[0],
                "{method:?}: loss did not decrease"
            );
        }
        let json = cal.to_json().unwrap();
        assert_eq!(Calibrator::from_json(&json).unwrap(), cal, "{method:?}");
        assert!(
            json.contains("\"format\": \"qcal-calibrator\"") && json.contains("\"version\": 1")
        );
    }
}

#[test]
fn fuzzy_beats_uncalibrated_ece_in_both_modes() {
    let d = overconfident(3000, 3, 5, 2.5, 1.8);
    for combine in [Combine::MixedLogits, Combine::MixtureOfSoftmaxes] {
        let mut cfg = FitConfig::default();
        cfg.fuzzy.combine = combine;
        let cal = fit(Method::Fuzzy, &d, &cfg, &mut |_, _| {}).unwrap();
        let (e0, e1) = (ece(&d, 15), ece(&cal.apply_data(&d), 15));
        assert!(e1 < 0.5 * e0, "{combine:?}: ECE {e1} vs uncalibrated {e0}");
    }
}

#[test]
fn fuzzy_graph_matches_plain_rust_applier_and_identity_init() {
    let d = overconfident(300, 3, 3, 2.5, 1.8);
    let dev = autodiff_device(TrainBackend::Cpu).unwrap();
    for (mixture, combine) in [
        (false, Combine::MixedLogits),
        (true, Combine::MixtureOfSoftmaxes),
    ] {
        let obj = FuzzyObjective::new(3, 5, combine, LossWeights::default(), &dev);
        let mut f = FuzzyGated::identity(3, 5, combine);
        assert_eq!(obj.init_theta(), FuzzyObjective::theta_of(&f));
        let id = Calibrator::Fuzzy(f.clone()).apply_unchecked(d.probs(), 3);
        assert!(
            id.iter().zip(d.probs()).all(|(a, b)| (a - b).abs() < 1e-9),
            "identity at init"
        );
        // Perturb every parameter, then compare the burn forward with the applier.
        let mut rng = qcal_calib::rng::SplitMix64::new(9);
        f.weights.iter_mut().for_each(|w| *w += 0.3 * rng.normal());
        f.biases.iter_mut().for_each(|b| *b += 0.3 * rng.normal());
        f.centres.iter_mut().for_each(|c| *c += 0.05 * rng.normal());
        let theta = FuzzyObjective::theta_of(&f);
        assert_eq!(
            obj.into_calibrator(&theta).unwrap(),
            Calibrator::Fuzzy(f.clone())
        );
        let q = obj.predict(&dev, &theta, &features(&d)).unwrap();
        let want = Calibrator::Fuzzy(f).apply_unchecked(d.probs(), 3);
        let worst = q
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-5,
            "mixture={mixture}: burn vs plain Rust differ by {worst}"
        );
    }
}

/// The fuzzy objective's smooth terms (NLL + Brier). The top-label soft ECE is left out because
/// its hit indicator (`argmax == label`) is piecewise constant, so a finite difference across a
/// flipped argmax measures a jump, not a slope; the soft-ECE terms are sums of `|.|`. The full
/// objective's gradient is checked against a second backend instead
/// (`fuzzy_loss_and_gradient_agree_on_cpu_and_wgpu`).
fn smooth_weights() -> LossWeights {
    LossWeights {
        ece: 0.0,
        classwise_ece: 0.0,
        ..LossWeights::default()
    }
}

/// The combination mode of `mixture`.
fn combine_of(mixture: bool) -> Combine {
    if mixture {
        Combine::MixtureOfSoftmaxes
    } else {
        Combine::MixedLogits
    }
}

/// A perturbed identity fuzzy parameter vector (seeded).
fn perturbed_fuzzy_theta() -> Vec<f64> {
    let mut rng = qcal_calib::rng::SplitMix64::new(1);
    let mut th = FuzzyObjective::theta_of(&FuzzyGated::identity(3, 5, Combine::MixedLogits));
    th.iter_mut().for_each(|v| *v += 0.1 * rng.normal());
    th
}

#[test]
fn fuzzy_gradients_match_finite_differences() {
    let d = overconfident(400, 3, 4, 2.5, 1.8);
    let dev = autodiff_device(TrainBackend::Cpu).unwrap();
    let batch = Batch::new(&dev, &features(&d), 3, d.labels(), 3);
    let th = perturbed_fuzzy_theta();
    for mixture in [false, true] {
        let obj = FuzzyObjective::new(3, 5, combine_of(mixture), smooth_weights(), &dev);
        let (_, g) = block_on(value_and_grad(&obj, &dev, &th, &batch)).unwrap();
        assert_eq!(g.len(), obj.n_params());
        let h = 2e-3;
        for i in (0..th.len()).step_by(3) {
            let mut up = th.clone();
            up[i] += h;
            let mut dn = th.clone();
            dn[i] -= h;
            let fd = (block_on(value(&obj, &dev, &up, &batch)).unwrap()
                - block_on(value(&obj, &dev, &dn, &batch)).unwrap())
                / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 2e-3 + 0.05 * g[i].abs(),
                "mixture={mixture} param {i}: autodiff {} vs fd {fd}",
                g[i]
            );
        }
    }
}

#[test]
fn fuzzy_loss_and_gradient_agree_on_cpu_and_wgpu() {
    let Ok(gpu) = autodiff_device(TrainBackend::Wgpu) else {
        qcal_tests::skip(
            "fuzzy_loss_and_gradient_agree_on_cpu_and_wgpu",
            "no wgpu adapter",
        );
        return;
    };
    let cpu = autodiff_device(TrainBackend::Cpu).unwrap();
    let d = overconfident(500, 3, 9, 2.5, 1.8);
    let th = perturbed_fuzzy_theta();
    for mixture in [false, true] {
        let mut out = Vec::new();
        for dev in [&cpu, &gpu] {
            let batch = Batch::new(dev, &features(&d), 3, d.labels(), 3);
            let obj = FuzzyObjective::new(3, 5, combine_of(mixture), LossWeights::default(), dev);
            out.push(block_on(value_and_grad(&obj, dev, &th, &batch)).unwrap());
        }
        let (fc, gc) = &out[0];
        let (fg, gg) = &out[1];
        assert!(
            (fc - fg).abs() < 1e-4,
            "mixture={mixture}: loss {fc} vs {fg}"
        );
        for (i, (a, b)) in gc.iter().zip(gg).enumerate() {
            assert!(
                (a - b).abs() < 1e-3,
                "mixture={mixture} grad {i}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn int4_noise_training_runs_and_stays_calibrated() {
    let d = overconfident(2000, 3, 8, 2.5, 1.8);
    let mut cfg = FitConfig::default();
    cfg.fuzzy.noise_std = 0.3;
    cfg.fuzzy.steps = 150;
    let cal = fit(Method::Fuzzy, &d, &cfg, &mut |_, _| {}).unwrap();
    assert!(ece(&cal.apply_data(&d), 15) < ece(&d, 15));
}

#[test]
fn prior_correction_matches_label_priors() {
    let d = overconfident(2000, 3, 12, 2.5, 1.8);
    let cfg = FitConfig {
        prior_em: true,
        ..FitConfig::default()
    };
    let q = fit(Method::Prior, &d, &cfg, &mut |_, _| {})
        .unwrap()
        .apply_data(&d);
    let pi = qcal_calib::calibrators::label_priors(&d);
    for (k, &prior) in pi.iter().enumerate().take(3) {
        let mean: f64 = (0..d.n()).map(|i| q.row(i)[k]).sum::<f64>() / d.n() as f64;
        assert!((mean - prior).abs() < 1e-9, "class {k}: {mean} vs {prior}");
    }
}

#[test]
fn dirichlet_cross_validation_picks_a_grid_point() {
    let d = overconfident(600, 3, 2, 2.5, 1.8);
    let mut cfg = FitConfig::default();
    cfg.dirichlet.grid = vec![1e-3, 1e-1];
    let (l, m) = qcal_calib::train::select_odir(&d, &cfg).unwrap();
    assert!(cfg.dirichlet.grid.contains(&l) && cfg.dirichlet.grid.contains(&m));
    assert!(matches!(
        fit(Method::Dirichlet, &d, &cfg, &mut |_, _| {}).unwrap(),
        Calibrator::Dirichlet(_)
    ));
}

#[test]
fn softmax_regression_learns_and_folds_the_scaler() {
    // Three Gaussian blobs in 16 dimensions, one near-constant feature, offset and scaled.
    let (n, dim, k) = (1500, 16, 3);
    let mut rng = qcal_calib::rng::SplitMix64::new(4);
    let mut x = Vec::with_capacity(n * dim);
    let y: Vec<usize> = (0..n).map(|i| i % k).collect();
    for &c in &y {
        for j in 0..dim {
            let centre = if j % k == c { 1.5 } else { 0.0 };
            let v = if j == dim - 1 {
                7.0 + 1e-5 * rng.normal()
            } else {
                10.0 + 3.0 * (centre + rng.normal())
            };
            x.push(v as f32);
        }
    }
    let cfg = SoftmaxRegressionConfig::default();
    let map = fit_softmax_regression(&x, n, dim, &y, k, &cfg, &mut |_, _| {}).unwrap();
    assert_eq!((map.weight.len(), map.bias.len()), (k * dim, k));
    assert_eq!(map.weight[dim - 1], 0.0, "near-constant feature dropped");
    let correct = (0..n)
        .filter(|&i| {
            let row = &x[i * dim..(i + 1) * dim];
            let logits: Vec<f32> = (0..k)
                .map(|c| {
                    map.bias[c]
                        + row
                            .iter()
                            .zip(&map.weight[c * dim..])
                            .map(|(a, b)| a * b)
                            .sum::<f32>()
                })
                .collect();
            let best = (0..k)
                .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
                .unwrap_or(0);
            best == y[i]
        })
        .count();
    assert!(
        correct as f64 / n as f64 > 0.9,
        "accuracy {}",
        correct as f64 / n as f64
    );
    let e =
        fit_softmax_regression(&x, n, dim, &[5usize; 1500], k, &cfg, &mut |_, _| {}).unwrap_err();
    assert!(matches!(e, CalibError::LabelOutOfRange { row: 0, .. }));
}

#[test]
fn cpu_and_wgpu_fits_agree() {
    if let Err(e) = autodiff_device(TrainBackend::Wgpu) {
        qcal_tests::skip("cpu_and_wgpu_fits_agree", &e.to_string());
        return;
    }
    let d = overconfident(1000, 3, 21, 2.5, 1.8);
    let cpu = FitConfig::default();
    let gpu = FitConfig {
        backend: TrainBackend::Wgpu,
        ..FitConfig::default()
    };
    let a = fit_dirichlet_fixed(&d, 1e-3, 1e-3, &cpu, &mut |_, _| {}).unwrap();
    let b = fit_dirichlet_fixed(&d, 1e-3, 1e-3, &gpu, &mut |_, _| {}).unwrap();
    let worst = max_diff(
        &Calibrator::Dirichlet(a).apply_data(&d),
        &Calibrator::Dirichlet(b).apply_data(&d),
    );
    assert!(worst < 1e-3, "dirichlet cpu vs wgpu: {worst}");
    for method in [Method::Temperature, Method::Vector, Method::Matrix] {
        let a = fit(method, &d, &cpu, &mut |_, _| {})
            .unwrap()
            .apply_data(&d);
        let b = fit(method, &d, &gpu, &mut |_, _| {})
            .unwrap()
            .apply_data(&d);
        let worst = max_diff(&a, &b);
        assert!(worst < 1e-3, "{method:?} cpu vs wgpu: {worst}");
    }
    // Adam turns near-zero gradient components into full-size steps of either sign, so fuzzy
    // trajectories on two backends part ways; the fits must still be equally good.
    let (mut cpu, mut gpu) = (cpu, gpu);
    cpu.fuzzy.steps = 60;
    gpu.fuzzy.steps = 60;
    let a = fit(Method::Fuzzy, &d, &cpu, &mut |_, _| {})
        .unwrap()
        .apply_data(&d);
    let b = fit(Method::Fuzzy, &d, &gpu, &mut |_, _| {})
        .unwrap()
        .apply_data(&d);
    let (na, nb) = (nll(&a), nll(&b));
    assert!((na - nb).abs() < 1e-2, "fuzzy NLL cpu {na} vs wgpu {nb}");
}

fn max_diff(a: &ProbData, b: &ProbData) -> f64 {
    a.probs()
        .iter()
        .zip(b.probs())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn bad_input_is_a_clear_error() {
    let nan = ProbData::new(vec![0.5, 0.5, 0.2, f64::INFINITY], 2, &[0, 1], false).unwrap_err();
    assert!(nan.to_string().contains("row 1, column 1"), "{nan}");
    let sum = ProbData::new(vec![0.5, 0.6], 2, &[0], false).unwrap_err();
    assert!(
        sum.to_string().contains("row 0") && sum.to_string().contains("sums to"),
        "{sum}"
    );
    let f32_row = [0.2f32, 0.3, 0.5].map(f64::from);
    assert!(
        ProbData::new(f32_row.to_vec(), 3, &[0], false).is_ok(),
        "f32 softmax rows accepted"
    );
    let empty = ProbData::new(vec![], 3, &[], false).unwrap_err();
    assert!(empty.to_string().contains("empty"), "{empty}");
    let single = ProbData::new(vec![0.6, 0.4, 0.3, 0.7], 2, &[1, 1], false).unwrap();
    let e = fit(
        Method::Temperature,
        &single,
        &FitConfig::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("only one class"), "{e}");
    let cal = Calibrator::Fuzzy(FuzzyGated::identity(3, 5, Combine::MixedLogits));
    let e = cal.apply(&[0.5, 0.5], 2, false).unwrap_err();
    assert!(e.to_string().contains("3 classes"), "{e}");
    let o = Outputs::from_probs(vec![0.5, 0.5], 1, 2, vec![3]);
    let e = ProbData::from_outputs(
        &Outputs::from_npz_bytes(&o.to_npz_bytes().unwrap()).unwrap(),
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("label 3 at row 0"), "{e}");
}

/// A watched fit hands the watcher its calibrator every few steps; a removed watcher hears
/// nothing.
#[test]
fn a_watched_fit_hands_over_calibrators_every_few_steps() {
    use qcal_calib::Calibrator;
    use qcal_calib::calibrators::Method;
    use qcal_calib::train::{FitConfig, fit, set_watch};
    use std::cell::Cell;
    use std::rc::Rc;
    let probs: Vec<f64> = (0..60)
        .flat_map(|i| {
            let p = 0.55 + (i % 9) as f64 * 0.05;
            [p, 1.0 - p]
        })
        .collect();
    let labels: Vec<i64> = (0..60).map(|i| i64::from(i % 4 == 0)).collect();
    let d = qcal_calib::ProbData::new(probs, 2, &labels, false).expect("data");
    let seen = Rc::new(Cell::new(0));
    let s = seen.clone();
    set_watch(
        5,
        Some(Rc::new(move |step, c: &Calibrator| {
            assert!(step.is_multiple_of(5), "step {step}");
            assert_eq!(c.method(), Method::Vector);
            s.set(s.get() + 1);
        })),
    );
    let cfg = FitConfig::default();
    let fitted = fit(Method::Vector, &d, &cfg, &mut |_, _| {});
    set_watch(0, None);
    assert!(fitted.is_ok());
    assert!(seen.get() >= 1, "no calibrator was handed over");
    let after = seen.get();
    fit(Method::Vector, &d, &cfg, &mut |_, _| {}).expect("fit");
    assert_eq!(seen.get(), after, "a removed watcher is not called");
}
