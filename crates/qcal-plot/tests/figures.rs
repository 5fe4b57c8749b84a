//! Every figure rendered to SVG (and PNG natively): content checks and input validation.
//!
//! With `QCAL_PLOT_LOOK=<dir>` set, `plot_look_write_example_pngs` also writes example PNGs
//! and SVGs of synthetic data there for a human to look at.

use qcal_calib::calibrators::{Combine, FuzzyGated, Method};
use qcal_calib::metrics::{ReliabilityBins, reliability_band};
use qcal_calib::synthetic::overconfident;
use qcal_plot::{
    DeltaBar, PlotError, Series, confidence_histogram, fuzzy_gated_memberships, fuzzy_memberships,
    fuzzy_region_maps, loss_curves, reliability_diagram, save_png, save_svg, svg_string,
    transfer_chart,
};
use std::path::PathBuf;

const SIZE: (u32, u32) = (800, 600);

/// Reliability bins and a 95% bootstrap band of synthetic overconfident outputs.
fn synthetic_series(label: &str, seed: u64, sharpen: f64, with_band: bool) -> Series {
    let d = overconfident(3000, 3, seed, 3.0, sharpen);
    let bins = ReliabilityBins::top_label(&d, 15);
    let series = Series::new(label, bins);
    if with_band {
        let band = reliability_band(&d, 15, 200, seed, 0.95);
        series.with_band(band.iter().map(|i| (i.lo, i.hi)).collect())
    } else {
        series
    }
}

/// Elements `<tag ...>` of `svg` whose attributes contain `attr`.
fn count_elements(svg: &str, tag: &str, attr: &str) -> usize {
    svg.split('<')
        .filter(|e| e.starts_with(&format!("{tag} ")) && e.contains(attr))
        .count()
}

fn non_empty_bins(s: &Series) -> usize {
    s.bins.count.iter().filter(|&&n| n > 0).count()
}

fn assert_input_error(r: Result<String, PlotError>, needle: &str) {
    match r {
        Err(PlotError::Input(msg)) => assert!(msg.contains(needle), "{msg:?} lacks {needle:?}"),
        other => panic!("expected an input error containing {needle:?}, got {other:?}"),
    }
}

fn unique_temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("qcal-plot-{name}-{}-{nanos}", std::process::id()))
}

#[test]
fn plot_reliability_diagram_draws_title_legend_and_a_marker_per_non_empty_bin() {
    let series = [
        synthetic_series("FP32 uncalibrated", 1, 2.0, false),
        synthetic_series("INT4 uncalibrated", 2, 2.5, false),
    ];
    let svg = svg_string(SIZE, |a| {
        reliability_diagram(a, "Reliability on twfin", &series)
    })
    .unwrap();
    for text in [
        "Reliability on twfin",
        "FP32 uncalibrated",
        "INT4 uncalibrated",
        "Perfect calibration",
        "Confidence",
        "Accuracy",
    ] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    let expected: usize = series.iter().map(non_empty_bins).sum();
    assert!(expected > 5, "synthetic data fills only {expected} bins");
    assert_eq!(count_elements(&svg, "circle", ""), expected);
    assert_eq!(
        count_elements(&svg, "circle", "fill=\"#0072B2\""),
        non_empty_bins(&series[0])
    );
    assert_eq!(count_elements(&svg, "polygon", ""), 0, "no band was given");
}

#[test]
fn plot_reliability_diagram_draws_a_band_per_series_with_one() {
    let series = [
        synthetic_series("FP32", 3, 2.0, true),
        synthetic_series("INT4", 4, 2.5, false),
    ];
    let svg = svg_string(SIZE, |a| reliability_diagram(a, "Bands", &series)).unwrap();
    assert_eq!(count_elements(&svg, "polygon", "fill=\"#0072B2\""), 1);
    assert_eq!(count_elements(&svg, "polygon", ""), 1);
}

#[test]
fn plot_reliability_diagram_rejects_bad_input() {
    let good = synthetic_series("good", 5, 2.0, true);
    let draw = |s: Vec<Series>| svg_string(SIZE, |a| reliability_diagram(a, "t", &s));
    assert_input_error(draw(vec![]), "series is empty");
    let bin = good.bins.count.iter().position(|&n| n > 0).unwrap();

    let mut nan = good.clone();
    nan.bins.accuracy[bin] = f64::NAN;
    assert_input_error(draw(vec![nan]), "accuracy");

    let mut out_of_range = good.clone();
    out_of_range.bins.confidence[bin] = 1.5;
    assert_input_error(draw(vec![out_of_range]), "outside [0, 1]");

    let mut reversed = good.clone();
    reversed.band.as_mut().unwrap()[bin] = (0.9, 0.1);
    assert_input_error(draw(vec![reversed]), "lo 0.9 > hi 0.1");

    let mut short_band = good.clone();
    short_band.band.as_mut().unwrap().pop();
    assert_input_error(draw(vec![short_band]), "band has length 14, expected 15");

    let mut ragged = good.clone();
    ragged.bins.accuracy.pop();
    assert_input_error(draw(vec![ragged]), "accuracy has length 14");

    let mut no_samples = good.clone();
    no_samples.bins.count.iter_mut().for_each(|n| *n = 0);
    assert_input_error(draw(vec![no_samples]), "no samples");
}

#[test]
fn plot_confidence_histogram_draws_a_bar_per_non_empty_bin() {
    let a: Vec<f64> = vec![0.35, 0.5, 0.55, 0.95, 0.99, 1.0];
    let b: Vec<f64> = vec![0.71, 0.72, 0.74];
    let series = vec![("FP32".to_string(), a), ("INT4".to_string(), b)];
    let svg = svg_string(SIZE, |ar| {
        confidence_histogram(ar, "Confidence", &series, 10)
    })
    .unwrap();
    for text in ["Confidence", "FP32", "INT4", "Fraction of samples"] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    // Bins of width 0.1: FP32 fills [0.3,0.4), [0.5,0.6) (0.5 sits on an edge), [0.9,1.0];
    // INT4 fills [0.7,0.8). One more box each in the legend.
    assert_eq!(count_elements(&svg, "rect", "fill=\"#0072B2\""), 3 + 1);
    assert_eq!(count_elements(&svg, "rect", "fill=\"#D55E00\""), 1 + 1);
}

#[test]
fn plot_confidence_histogram_rejects_bad_input() {
    let draw = |s: Vec<(String, Vec<f64>)>, bins| {
        svg_string(SIZE, |a| confidence_histogram(a, "t", &s, bins))
    };
    let ok = || vec![("a".to_string(), vec![0.5, 0.9])];
    assert_input_error(draw(vec![], 15), "series is empty");
    assert_input_error(draw(ok(), 0), "bins = 0");
    assert_input_error(
        draw(vec![("a".into(), vec![])], 15),
        "'a' confidences is empty",
    );
    assert_input_error(
        draw(vec![("a".into(), vec![0.5, f64::NAN])], 15),
        "[1] is NaN",
    );
    assert_input_error(draw(vec![("a".into(), vec![1.2])], 15), "outside [0, 1]");
}

fn bars() -> Vec<DeltaBar> {
    let bar = |label: &str, mean: f64, lo: f64, hi: f64| DeltaBar {
        label: label.to_string(),
        mean,
        lo,
        hi,
    };
    vec![
        bar(Method::Temperature.name(), 42.0, 30.5, 55.1),
        bar(Method::Dirichlet.name(), 18.2, 5.0, 31.0),
        bar("fuzzy-gated", -12.5, -20.0, -3.1),
        bar("fuzzy QAT", 3.0, -4.0, 10.0),
    ]
}

#[test]
fn plot_transfer_chart_draws_a_bar_and_label_per_method() {
    let bars = bars();
    let svg = svg_string(SIZE, |a| {
        transfer_chart(a, "ECE transfer FP32 to INT4", "Transfer delta (%)", &bars)
    })
    .unwrap();
    for text in [
        "ECE transfer FP32 to INT4",
        "Transfer delta (%)",
        "+42.0",
        "-12.5",
    ] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    for b in &bars {
        assert!(
            svg.contains(&format!("\n{}\n", b.label)),
            "no tick label {:?}",
            b.label
        );
    }
    assert_eq!(count_elements(&svg, "rect", "fill=\"#0072B2\""), bars.len());
}

#[test]
fn plot_transfer_chart_rejects_bad_input() {
    let draw = |b: Vec<DeltaBar>| svg_string(SIZE, |a| transfer_chart(a, "t", "y", &b));
    assert_input_error(draw(vec![]), "bars is empty");
    let mut reversed = bars();
    reversed[1].lo = 40.0;
    assert_input_error(draw(reversed), "bar 'dirichlet' interval[1]: lo 40 > hi 31");
    let mut nan = bars();
    nan[2].mean = f64::NAN;
    assert_input_error(draw(nan), "bar 'fuzzy-gated' mean[2] is NaN");
    let mut inf = bars();
    inf[0].hi = f64::INFINITY;
    assert_input_error(draw(inf), "is inf");
}

#[test]
fn plot_fuzzy_memberships_names_every_region_in_the_legend() {
    let centres = [0.4, 0.6, 0.8];
    let widths = [0.1, 0.05, 0.2];
    let svg = svg_string(SIZE, |a| {
        fuzzy_memberships(a, "Memberships", &centres, &widths)
    })
    .unwrap();
    for text in [
        "Memberships",
        "region 1: m = 0.400, s = 0.100",
        "region 2: m = 0.600, s = 0.050",
        "region 3: m = 0.800, s = 0.200",
        "normalised gates",
    ] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    assert_eq!(svg.matches("\nregion ").count(), 3);
}

#[test]
fn plot_fuzzy_gated_memberships_draws_a_fitted_calibrator() {
    let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
    let svg = svg_string(SIZE, |a| fuzzy_gated_memberships(a, "Identity", &f)).unwrap();
    assert_eq!(svg.matches("\nregion ").count(), 5);
    assert!(svg.contains("region 1: m = 0.333, s = 0.167"));
}

#[test]
fn plot_fuzzy_region_maps_draws_one_dot_per_sample_and_region() {
    let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
    let d = overconfident(40, 3, 11, 3.0, 2.0);
    let svg = svg_string(SIZE, |a| fuzzy_region_maps(a, "Regions", &f, d.probs())).unwrap();
    assert_eq!(count_elements(&svg, "circle", "fill"), 5 * 40);
    for r in 1..=5 {
        assert!(svg.contains(&format!("region {r}: m = ")), "panel {r}");
    }
    // Strided down to at most MAX_MAP_POINTS dots per panel.
    let big = overconfident(5000, 3, 12, 3.0, 2.0);
    let svg = svg_string(SIZE, |a| fuzzy_region_maps(a, "Regions", &f, big.probs())).unwrap();
    let per_panel = count_elements(&svg, "circle", "fill") / 5;
    assert!(
        (1000..=qcal_plot::MAX_MAP_POINTS).contains(&per_panel),
        "{per_panel}"
    );
}

#[test]
fn plot_fuzzy_region_maps_rejects_bad_input() {
    let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
    let draw = |p: &[f64]| svg_string(SIZE, |a| fuzzy_region_maps(a, "t", &f, p));
    assert_input_error(draw(&[]), "fuzzy map rows is empty");
    assert_input_error(draw(&[0.5, 0.5]), "not a multiple of K = 3");
    assert_input_error(draw(&[0.5, 0.5, f64::NAN]), "fuzzy map rows[2] is NaN");
}

#[test]
fn plot_loss_curves_draw_every_series_with_steps() {
    let series = vec![
        (Method::Temperature.to_string(), vec![]),
        (Method::Matrix.to_string(), vec![0.9, 0.7, 0.65, 0.64]),
        (
            Method::Fuzzy.to_string(),
            (0..50).map(|i| 1.0 / (1.0 + i as f64)).collect(),
        ),
    ];
    let svg = svg_string(SIZE, |a| loss_curves(a, "Training", &series)).unwrap();
    assert!(
        svg.contains("\nmatrix\n") && svg.contains("\nfuzzy\n"),
        "legend"
    );
    assert!(!svg.contains("\ntemperature\n"), "no steps, no curve");
    // Each drawn series: its curve and its legend marker, in its palette colour (by index).
    for colour in ["#D55E00", "#009E73"] {
        let n = count_elements(&svg, "polyline", &format!("stroke=\"{colour}\""));
        assert_eq!(n, 2, "{colour}");
    }
    assert_eq!(count_elements(&svg, "polyline", "stroke=\"#0072B2\""), 0);
    let none = vec![(Method::Temperature.to_string(), vec![])];
    assert_input_error(
        svg_string(SIZE, |a| loss_curves(a, "t", &none)),
        "no series has any step",
    );
    let nan = vec![("m".to_string(), vec![1.0, f64::NAN])];
    assert_input_error(
        svg_string(SIZE, |a| loss_curves(a, "t", &nan)),
        "loss of 'm'[1] is NaN",
    );
}

#[test]
fn plot_fuzzy_memberships_rejects_bad_input() {
    let draw = |m: &[f64], s: &[f64]| svg_string(SIZE, |a| fuzzy_memberships(a, "t", m, s));
    assert_input_error(draw(&[], &[]), "centres is empty");
    assert_input_error(draw(&[0.5, 0.7], &[0.1]), "widths has length 1, expected 2");
    assert_input_error(draw(&[0.5], &[0.0]), "widths[0] = 0 (must be > 0)");
    assert_input_error(draw(&[f64::NAN], &[0.1]), "centres[0] is NaN");
}

#[test]
fn plot_svg_string_rejects_zero_size_and_passes_draw_errors_on() {
    assert_input_error(svg_string((0, 600), |_| Ok(())), "zero side");
    let r = svg_string(SIZE, |_| Err(PlotError::Draw("from the closure".into())));
    assert!(matches!(r, Err(PlotError::Draw(m)) if m == "from the closure"));
}

#[test]
fn plot_save_png_and_svg_write_files() {
    let dir = unique_temp_dir("save");
    let series = [synthetic_series("FP32", 6, 2.0, true)];
    let png = dir.join("nested/reliability.png");
    save_png(&png, SIZE, |a| reliability_diagram(a, "PNG test", &series)).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 8_000, "PNG is only {} bytes", bytes.len());
    let svg = dir.join("reliability.svg");
    save_svg(&svg, SIZE, |a| reliability_diagram(a, "SVG test", &series)).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("SVG test"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plot_save_png_reports_the_path_on_failure() {
    let dir = unique_temp_dir("fail");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("figure.unknown-format");
    let err = save_png(&bad, SIZE, |a| transfer_chart(a, "t", "y", &bars())).unwrap_err();
    assert!(
        matches!(&err, PlotError::File { path, .. } if path == &bad),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes example figures for a human to look at, when `QCAL_PLOT_LOOK` names a directory.
#[test]
fn plot_look_write_example_pngs() {
    let Some(dir) = std::env::var_os("QCAL_PLOT_LOOK") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let series = [
        synthetic_series("FP32, uncalibrated (ECE 0.121)", 7, 2.0, true),
        synthetic_series("INT4, uncalibrated (ECE 0.164)", 8, 2.6, true),
    ];
    let confidences: Vec<(String, Vec<f64>)> = [(7, 2.0, "FP32"), (8, 2.6, "INT4")]
        .iter()
        .map(|&(seed, sharpen, label)| {
            let d = overconfident(3000, 3, seed, 3.0, sharpen);
            let c = (0..d.n())
                .map(|i| d.row(i).iter().copied().fold(0.0, f64::max))
                .collect();
            (label.to_string(), c)
        })
        .collect();
    let methods = [
        ("uncalibrated", 35.0),
        (Method::Temperature.name(), 42.0),
        ("vector", 28.0),
        ("matrix", 30.0),
        ("dirichlet (ODIR)", 18.2),
        ("plain affine", 12.0),
        ("fuzzy-gated", -12.5),
        ("fuzzy-gated QAT", 3.0),
    ];
    let bars: Vec<DeltaBar> = methods
        .iter()
        .map(|&(label, m)| DeltaBar {
            label: label.into(),
            mean: m,
            lo: m - 9.0,
            hi: m + 11.0,
        })
        .collect();
    let f = FuzzyGated {
        centres: vec![0.36, 0.5, 0.68, 0.84, 0.97],
        log_widths: [0.06f64, 0.09, 0.07, 0.05, 0.03]
            .iter()
            .map(|w| w.ln())
            .collect(),
        ..FuzzyGated::identity(3, 5, Combine::MixedLogits)
    };
    save_png(&dir.join("reliability.png"), SIZE, |a| {
        reliability_diagram(a, "Reliability: FP32 vs INT4 (synthetic)", &series)
    })
    .unwrap();
    save_png(&dir.join("reliability_small.png"), (400, 300), |a| {
        reliability_diagram(a, "Reliability (400 x 300)", &series)
    })
    .unwrap();
    save_png(&dir.join("histogram.png"), SIZE, |a| {
        confidence_histogram(a, "Top-label confidence (synthetic)", &confidences, 20)
    })
    .unwrap();
    save_png(&dir.join("transfer.png"), SIZE, |a| {
        transfer_chart(
            a,
            "ECE transfer delta FP32 -> INT4",
            "Transfer delta of ECE (%)",
            &bars,
        )
    })
    .unwrap();
    save_png(&dir.join("fuzzy.png"), SIZE, |a| {
        fuzzy_gated_memberships(a, "Fuzzy-gated memberships (synthetic fit)", &f)
    })
    .unwrap();
    let d = overconfident(3000, 3, 13, 3.0, 2.0);
    save_png(&dir.join("fuzzy_regions.png"), (1200, 800), |a| {
        fuzzy_region_maps(a, "Fuzzy-gated regions (synthetic fit)", &f, d.probs())
    })
    .unwrap();
    for (name, size) in [
        ("panels.png", (1600, 1200)),
        ("panels_small.png", (800, 600)),
    ] {
        save_png(&dir.join(name), size, |root| {
            let panels = root.split_evenly((2, 2));
            reliability_diagram(&panels[0], "Reliability", &series)?;
            confidence_histogram(&panels[1], "Confidence", &confidences, 20)?;
            transfer_chart(&panels[2], "Transfer delta", "Delta of ECE (%)", &bars)?;
            fuzzy_gated_memberships(&panels[3], "Memberships", &f)
        })
        .unwrap();
    }
    save_png(&dir.join("text.png"), (400, 200), |a| {
        use qcal_plot::plotters::prelude::{Text, WHITE};
        a.fill(&WHITE)?;
        for (row, size) in [11.0, 13.0, 15.0, 19.0, 24.0, 36.0].iter().enumerate() {
            let at = (4, 4 + 30 * row as i32);
            a.draw(&Text::new(
                "0.50 INT4, m = 0.3 ag",
                at,
                ("sans-serif", *size),
            ))?;
        }
        Ok(())
    })
    .unwrap();
    save_svg(&dir.join("reliability.svg"), SIZE, |a| {
        reliability_diagram(a, "Reliability: FP32 vs INT4 (synthetic)", &series)
    })
    .unwrap();
}
