//! The "Run" section: the page's model (the default model wearing the shown scenario's head, or
//! one the user loaded) at FP32 and INT4 over the first rows of the embedded test split or an
//! uploaded CSV (columns chosen by the user), with a progress bar and sentences per second, on
//! WebGPU or the CPU path (`#device`); the outputs then replace the precomputed ones in every
//! table and diagram (and the default model's are compared with the shipped ones).

use crate::clock::yield_to_browser;
use crate::dom::el;
use crate::outputs::Pair;
use crate::try_it::Models;
use crate::try_view;
use crate::{dom, gpu_view, run};
use qcal_gpu::{Device, GpuClassifier, Runner};
use qcal_model::{BertForSequenceClassification, Dataset, QuantFormat, Scenario};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlButtonElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement};

thread_local! {
    /// The uploaded CSV: file name and bytes.
    static UPLOAD: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
}

fn status(text: &str) {
    let _ = dom::set_text("run-status", text);
}

/// Wires the upload and the run button (which runs the page's current model).
pub fn start() -> Result<(), String> {
    let file: HtmlInputElement = el("csv-file")?;
    let on_file = Closure::<dyn FnMut()>::new(move || {
        wasm_bindgen_futures::spawn_local(async {
            if let Err(e) = read_upload().await {
                dom::show_error(&e);
            }
        });
    });
    file.add_event_listener_with_callback("change", on_file.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_file.forget();
    let button: HtmlButtonElement = el("run")?;
    let on_run = Closure::<dyn FnMut()>::new(move || {
        wasm_bindgen_futures::spawn_local(async move {
            let Some(models) = try_view::current() else {
                return status("The model is still loading.");
            };
            let button: Option<HtmlButtonElement> = el("run").ok();
            button.iter().for_each(|b| b.set_disabled(true));
            if let Err(e) = run_all(&models).await {
                status("The run stopped.");
                dom::show_error(&format!("Run: {e}"));
            }
            button.iter().for_each(|b| b.set_disabled(false));
        });
    });
    button
        .add_event_listener_with_callback("click", on_run.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_run.forget();
    button.set_disabled(false);
    Ok(())
}

/// Reads the chosen CSV file and offers its columns for the text and the label.
async fn read_upload() -> Result<(), String> {
    let input: HtmlInputElement = el("csv-file")?;
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        UPLOAD.set(None);
        return Ok(());
    };
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{}: {e:?}", file.name()))?
        .as_string()
        .unwrap_or_default();
    let columns = run::upload_columns(text.as_bytes())?;
    for (id, want) in [("text-col", "text"), ("label-col", "label")] {
        let options: String = columns
            .iter()
            .map(|c| {
                let sel = if c == want { " selected" } else { "" };
                format!("<option{sel}>{}</option>", dom::html_escape(c))
            })
            .collect();
        dom::by_id(id)
            .map_err(|e| format!("{e:?}"))?
            .set_inner_html(&options);
    }
    let _ = dom::by_id("columns").map(|c| c.remove_attribute("hidden"));
    status(&format!(
        "{}: {} columns. Pick the sentence and label columns, then run.",
        file.name(),
        columns.len()
    ));
    UPLOAD.set(Some((file.name(), text.into_bytes())));
    Ok(())
}

/// The data to run: the upload with its chosen columns, else the embedded rows; `true` when
/// embedded.
fn chosen_data() -> Result<(Dataset, String, bool), String> {
    if let Some((name, bytes)) = UPLOAD.with_borrow(Clone::clone) {
        let text = el::<HtmlSelectElement>("text-col")?.value();
        let label = el::<HtmlSelectElement>("label-col")?.value();
        let d = run::upload_dataset(&bytes, &text, &label)?;
        let source = format!("run in this page on {name} ({} rows)", d.len());
        return Ok((d, source, false));
    }
    let rows: usize = el::<HtmlInputElement>("rows")?
        .value()
        .trim()
        .parse()
        .map_err(|_| "the number of rows must be a whole number".to_string())?;
    let d = run::embedded_rows(rows)?;
    let source = format!(
        "run in this page on the first {} rows of the embedded test split",
        d.len()
    );
    Ok((d, source, true))
}

/// The one runner on a model of the page (borrowed), its weights on the GPU or not.
type PageRunner<'a> = Runner<&'a BertForSequenceClassification>;

/// The runner of `model`, on `gpu` when given (the CPU path stays its fallback).
fn runner(model: &BertForSequenceClassification, gpu: Option<GpuClassifier>) -> PageRunner<'_> {
    match gpu {
        Some(g) => Runner::with_gpu(model, g),
        None => Runner::cpu(model),
    }
}

/// Logits on every sentence, in batches, with progress, columns in the data's class order;
/// returns them and seconds. The runner's notices (a fall back to the CPU) are collected in
/// `notices`.
async fn logits(
    runner: &mut PageRunner<'_>,
    models: &Models,
    texts: &[&str],
    cols: &[usize],
    name: &str,
    notices: &mut Vec<String>,
) -> Result<(Vec<f32>, f64), String> {
    let bar: Option<HtmlProgressElement> = el("run-progress").ok();
    let start = crate::clock::now_ms();
    let mut out = Vec::with_capacity(texts.len() * cols.len());
    for (i, chunk) in texts.chunks(run::BATCH).enumerate() {
        let enc = models
            .tokenizer
            .encode_batch(chunk)
            .map_err(|e| e.to_string())?;
        let batch = runner.logits(&enc).await.map_err(|e| e.to_string())?;
        notices.extend(runner.take_notices());
        out.extend(run::reorder_columns(&batch, models.labels.len(), cols));
        let done = (i * run::BATCH + chunk.len()) as f64;
        let secs = (crate::clock::now_ms() - start) / 1e3;
        if let Some(b) = &bar {
            b.set_value(done / texts.len() as f64);
        }
        status(&format!(
            "{name}: {done} / {} sentences, {:.1} sentences/s",
            texts.len(),
            done / secs.max(1e-3)
        ));
        yield_to_browser().await;
    }
    Ok((out, (crate::clock::now_ms() - start) / 1e3))
}

/// One run's outputs: both precisions' logits (data class order), their seconds, the device.
struct Ran {
    fp32: Vec<f32>,
    t32: f64,
    int4: Vec<f32>,
    t4: f64,
    device: String,
}

/// Both precisions' logits on the picked device (WebGPU falling back to the CPU path); `what`
/// prefixes the progress lines.
async fn both(models: &Models, texts: &[&str], cols: &[usize], what: &str) -> Result<Ran, String> {
    let gpu = if gpu_view::picked() == "webgpu" {
        gpu_view::take()
    } else {
        None
    };
    let (g32, g4, lease) = match gpu {
        Some(g) => {
            let (a, b, lease) = g.lend();
            (Some(a), Some(b), Some(lease))
        }
        None => (None, None, None),
    };
    let on = |r: &PageRunner| match (r.device(), &lease) {
        (Device::Gpu, Some(l)) => format!(" on WebGPU ({})", l.adapter()),
        _ => String::new(),
    };
    let mut notices = Vec::new();
    let mut r32 = runner(&models.fp32, g32);
    let name = format!("{what}FP32{}", on(&r32));
    let res32 = logits(&mut r32, models, texts, cols, &name, &mut notices).await;
    let mut r4 = runner(&models.int4, g4);
    let name = format!("{what}{}{}", models.int4_title(), on(&r4));
    let res4 = match &res32 {
        Ok(_) => logits(&mut r4, models, texts, cols, &name, &mut notices).await,
        Err(_) => Err("not run".into()),
    };
    let device = match (r32.device(), r4.device(), &lease) {
        (Device::Gpu, Device::Gpu, Some(l)) => format!("WebGPU ({})", l.adapter()),
        (Device::Cpu, Device::Cpu, _) if lease.is_none() => "the CPU path".into(),
        _ => format!("the CPU path after a WebGPU error ({})", notices.join("; ")),
    };
    let returned = (r32.into_parts().1, r4.into_parts().1);
    if let Some(l) = lease {
        l.give_back(returned.0, returned.1);
    }
    let (fp32, t32) = res32?;
    let (int4, t4) = res4?;
    Ok(Ran {
        fp32,
        t32,
        int4,
        t4,
        device,
    })
}

/// Whether `#run-val` asks for val rows too.
fn with_val() -> bool {
    el::<HtmlInputElement>("run-val").is_ok_and(|i| i.checked())
}

/// How the default model's outputs on the first test rows (`ran`) compare with the shipped
/// outputs of scenario `s` (whose head it wears) on the same rows: the page reproduces
/// `qcal predict`.
fn against_shipped(s: Scenario, ran: &Pair, models: &Models) -> Result<String, String> {
    let shipped = crate::outputs::embedded_of(s, "test")?;
    let fp32 = run::max_prob_diff(&ran.fp32, &shipped.fp32);
    let int4 =
        run::max_prob_diff(&ran.int4, &shipped.int4).filter(|_| models.format == QuantFormat::Nf4);
    Ok(match (fp32, int4) {
        (Some(f), Some(q)) => format!(
            " Largest probability difference from the shipped {s} outputs of these rows: FP32 \
             {f:.1e}, INT4 NF4 {q:.1e}."
        ),
        (Some(f), None) => format!(
            " Largest probability difference from the shipped {s} outputs of these rows: FP32 \
             {f:.1e}."
        ),
        _ => String::new(),
    })
}

/// Runs both precisions over the chosen data (and, when asked, as many val rows for the
/// calibrators) and shows the outputs.
async fn run_all(models: &Models) -> Result<(), String> {
    let scenario = crate::scenario::current();
    let (data, source, embedded) = chosen_data()?;
    let cols = models.columns_for(&data.label_names)?;
    let texts = data.texts();
    let ran = both(models, &texts, &cols, "").await?;
    let outputs = run::outputs_of(&data, &ran.fp32, &ran.int4)?;
    let shipped_check = match models.scenario {
        Some(s) if embedded => against_shipped(s, &outputs, models)?,
        _ => String::new(),
    };
    let source = match models.scenario {
        Some(s) => format!("the default model with the {s} head, {source}"),
        None => format!("{} with {source}", models.name),
    };
    crate::show::show_outputs(outputs, Some((&source, &models.name)))
        .map_err(|e| format!("{e:?}"))?;
    let n = texts.len() as f64;
    let mut line = format!(
        "{} sentences: FP32 {:.1} sentences/s, {} {:.1} sentences/s ({} / FP32 = {:.2}x), \
         on {} in this page. Every table and diagram below now shows these outputs.",
        texts.len(),
        n / ran.t32.max(1e-9),
        models.int4_title(),
        n / ran.t4.max(1e-9),
        models.int4_title(),
        ran.t32 / ran.t4.max(1e-9),
        ran.device
    );
    line.push_str(&shipped_check);
    if embedded && with_val() {
        let val = run::embedded_split_rows("val", texts.len())?;
        let val_ran = both(models, &val.texts(), &cols, "val rows: ").await?;
        let pair = run::outputs_of(&val, &val_ran.fp32, &val_ran.int4)?;
        crate::outputs::set_calibration(scenario, pair, &models.name);
        line.push_str(&format!(
            " Train now fits calibrators on this model's outputs of the first {} val rows.",
            val.len()
        ));
    }
    status(&line);
    dom::set_body_flag("data-run-done", Some(&format!("{}", texts.len())));
    Ok(())
}
