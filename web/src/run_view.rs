//! The "Run" section: the page's model (the default model wearing the shown scenario's head, or
//! one the user loaded) at FP32 and INT4 over the first rows of the embedded test split or an
//! uploaded CSV (columns chosen by the user), with a progress bar and sentences per second, on
//! WebGPU or the CPU path (`#device`); the outputs then replace the precomputed ones in every
//! table and diagram (and the default model's are compared with the shipped ones).

use crate::clock::yield_to_browser;
use crate::dom::el;
use crate::frames::FrameGap;
use crate::outputs::Pair;
use crate::try_it::Models;
use crate::try_view;
use crate::work::{self, Which};
use crate::{dom, gpu_view, pool, run};
use qcal_gpu::{Device, GpuClassifier, Runner};
use qcal_model::{BertForSequenceClassification, Dataset, Encoded, QuantFormat, Scenario};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlButtonElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement};

thread_local! {
    /// The uploaded CSV: file name and bytes.
    static UPLOAD: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
    /// The cancel flag of the run under way: its workers stop taking batches once it is set.
    static CANCEL: RefCell<Rc<Cell<bool>>> = RefCell::new(Rc::new(Cell::new(false)));
    /// [`warm_up`] has started this visit.
    static WARMED: Cell<bool> = const { Cell::new(false) };
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
            let cancel: Option<HtmlButtonElement> = el("run-cancel").ok();
            button.iter().for_each(|b| b.set_disabled(true));
            cancel.iter().for_each(|b| b.set_disabled(false));
            CANCEL.set(Rc::new(Cell::new(false)));
            crate::busy::set_running(true);
            let result = run_all(&models).await;
            crate::busy::set_running(false);
            match result {
                Err(e) if e != CANCELLED => dom::show_error(&format!("Run: {e}")),
                _ => {}
            }
            cancel.iter().for_each(|b| b.set_disabled(true));
            button.iter().for_each(|b| b.set_disabled(false));
        });
    });
    button
        .add_event_listener_with_callback("click", on_run.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_run.forget();
    button.set_disabled(false);
    let on_cancel = Closure::<dyn FnMut()>::new(|| {
        cancel_flag().set(true);
        status("Cancelling the run…");
    });
    el::<HtmlButtonElement>("run-cancel")?
        .add_event_listener_with_callback("click", on_cancel.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_cancel.forget();
    Ok(())
}

/// The cancel flag of the run under way (set by `#run-cancel`).
fn cancel_flag() -> Rc<Cell<bool>> {
    CANCEL.with_borrow(Clone::clone)
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

/// What a run is cut short by.
const CANCELLED: &str = "cancelled";

/// Longest stretch of tokenizing before the page thread waits for a frame, in ms.
const ENCODE_SLICE_MS: f64 = 10.0;

/// Tokenizes `texts` on the page thread (the workers hold no tokenizer) in batches of
/// [`run::BATCH`], handing each to `take` (which returns `false` to stop), and waits for the next
/// frame ([`crate::frames::next_frame`]) whenever `slice_ms` have passed since the last wait.
async fn encode_sliced(
    models: &Models,
    texts: &[&str],
    slice_ms: f64,
    mut take: impl FnMut(Encoded) -> bool,
) -> Result<(), String> {
    let mut last_yield = crate::clock::now_ms();
    for chunk in texts.chunks(run::BATCH) {
        let batch = models
            .tokenizer
            .encode_batch(chunk)
            .map_err(|e| e.to_string())?;
        if !take(batch) {
            break;
        }
        if crate::clock::now_ms() - last_yield > slice_ms {
            crate::frames::next_frame().await;
            last_yield = crate::clock::now_ms();
        }
    }
    Ok(())
}

/// The sentences tokenized ([`encode_sliced`], a frame every [`ENCODE_SLICE_MS`]) and their
/// real tokens in all. The status line says so first, `what` ahead: one line, as the passes'
/// progress will be, so the page's layout changes now, while the workers idle, and not under
/// their first batches (re-laying out and repainting what lies below a longer line that shrank
/// held a frame 45-60 ms with SwiftShader's compositing).
async fn encode_all(
    models: &Models,
    texts: &[&str],
    what: &str,
) -> Result<(Vec<Encoded>, usize), String> {
    crate::frames::set_phase("tokenizing");
    status(&format!("{what}Tokenizing {} sentences…", texts.len()));
    let mut batches = Vec::with_capacity(texts.len().div_ceil(run::BATCH));
    encode_sliced(models, texts, ENCODE_SLICE_MS, |b| {
        batches.push(b);
        true
    })
    .await?;
    let tokens = batches.iter().map(work::real_tokens).sum();
    Ok((batches, tokens))
}

/// Longest stretch of [`warm_up`] before it waits for a frame, in ms.
const WARM_UP_SLICE_MS: f64 = 4.0;

/// Warms the page thread's part of a run up, once per visit: tokenizes the whole embedded test
/// split (the rows the Run box offers) and builds the workers' messages of its batches, a few
/// milliseconds a frame, results dropped; a run started meanwhile ends it. V8 compiles a wasm
/// function's optimised code on a background thread once the function has run hot enough: in a
/// visit's first run that compiling shared the two cores with the page thread and the
/// compositor as the page tokenized (in a trace of a first 2,000-row run, 166 ms of compiling in
/// its first 0.3 s; 17 ms after this warm-up).
pub async fn warm_up(models: &Models) {
    if WARMED.replace(true) {
        return;
    }
    let Ok(data) = run::embedded_rows(usize::MAX) else {
        return;
    };
    let texts = data.texts();
    let _ = encode_sliced(models, &texts, WARM_UP_SLICE_MS, |batch| {
        if crate::busy::running() {
            return false;
        }
        pool::warm_up_message(batch);
        true
    })
    .await;
}

/// Shows a pass's progress: `done(rows)` after each batch.
fn progress(name: String, total: usize) -> Rc<dyn Fn(usize)> {
    let bar: Option<HtmlProgressElement> = el("run-progress").ok();
    let start = crate::clock::now_ms();
    let done = Cell::new(0usize);
    Rc::new(move |rows| {
        done.set(done.get() + rows);
        let secs = (crate::clock::now_ms() - start) / 1e3;
        if let Some(b) = &bar {
            b.set_value(done.get() as f64 / total.max(1) as f64);
        }
        status(&format!(
            "{name}: {} / {total} sentences, {:.1} sentences/s",
            done.get(),
            done.get() as f64 / secs.max(1e-3)
        ));
    })
}

/// One precision's logits on every batch (data class order), its seconds, the workers that ran
/// it (0: the page thread) and why workers stopped, if any did.
struct Pass {
    logits: Vec<f32>,
    secs: f64,
    workers: usize,
    faults: Vec<String>,
    /// Batches run on the page thread.
    on_page: usize,
}

/// Runs `which` model over `batches`: on the CPU path in the Web Workers, whatever they did not
/// run (all of it on WebGPU or without workers) on the page thread through `runner`, whose
/// notices (a fall back to the CPU) are collected in `notices`.
async fn pass(
    runner: &mut PageRunner<'_>,
    models: &Rc<Models>,
    which: Which,
    batches: &[Encoded],
    cols: &[usize],
    name: String,
    notices: &mut Vec<String>,
) -> Result<Pass, String> {
    crate::frames::set_phase(match which {
        Which::Fp32 => "the FP32 pass",
        Which::Int4 => "the INT4 pass",
    });
    let rows = batches.iter().map(|b| b.batch).sum();
    let done = progress(name, rows);
    let start = crate::clock::now_ms();
    let cancel = cancel_flag();
    let shared = match runner.device() {
        Device::Cpu => pool::run(models, which, batches, cancel.clone(), done.clone()).await,
        Device::Gpu => Err("WebGPU runs on the page thread".into()),
    };
    let (mut logits, workers, mut faults) = match shared {
        Ok(s) => (s.logits, s.workers, s.faults),
        Err(_) => (vec![None; batches.len()], 0, Vec::new()),
    };
    let left = logits.iter().filter(|l| l.is_none()).count();
    if workers > 0 && left > 0 && faults.is_empty() && !cancel.get() {
        faults.push(format!(
            "{left} of {} batches came back empty",
            batches.len()
        ));
    }
    for (enc, out) in batches.iter().zip(logits.iter_mut()) {
        if cancel.get() {
            return Err(CANCELLED.into());
        }
        if out.is_none() {
            *out = Some(runner.logits(enc).await.map_err(|e| e.to_string())?);
            notices.extend(runner.take_notices());
            done(enc.batch);
            yield_to_browser().await;
        }
    }
    let logits = logits
        .iter()
        .flatten()
        .flat_map(|b| run::reorder_columns(b, models.labels.len(), cols))
        .collect();
    Ok(Pass {
        logits,
        secs: (crate::clock::now_ms() - start) / 1e3,
        workers,
        faults,
        on_page: left,
    })
}

/// One run's outputs: both precisions' passes, the real tokens of the rows, the device.
struct Ran {
    fp32: Pass,
    int4: Pass,
    tokens: usize,
    device: String,
}

/// Both precisions' logits on the picked device (WebGPU falling back to the CPU path); `what`
/// prefixes the progress lines.
async fn both(
    models: &Rc<Models>,
    texts: &[&str],
    cols: &[usize],
    what: &str,
) -> Result<Ran, String> {
    let (batches, tokens) = encode_all(models, texts, what).await?;
    crate::busy::warm_up_settled().await;
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
    let res32 = pass(
        &mut r32,
        models,
        Which::Fp32,
        &batches,
        cols,
        name,
        &mut notices,
    )
    .await;
    let mut r4 = runner(&models.int4, g4);
    let name = format!("{what}{}{}", models.int4_title(), on(&r4));
    let res4 = match &res32 {
        Ok(_) => {
            pass(
                &mut r4,
                models,
                Which::Int4,
                &batches,
                cols,
                name,
                &mut notices,
            )
            .await
        }
        Err(e) => Err(e.clone()),
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
    Ok(Ran {
        fp32: res32?,
        int4: res4?,
        tokens,
        device,
    })
}

impl Ran {
    /// Where it ran: the device, and for the CPU path the workers (or the page thread, and why
    /// workers stopped).
    fn place(&self) -> String {
        let workers = self.fp32.workers.max(self.int4.workers);
        let mut faults: Vec<&str> = self
            .fp32
            .faults
            .iter()
            .chain(&self.int4.faults)
            .map(String::as_str)
            .collect();
        faults.dedup();
        let mut place = match workers {
            0 if self.device == "the CPU path" => match pool::unavailable() {
                Some(why) => format!("the CPU path on the page thread ({why})"),
                None => "the CPU path on the page thread".into(),
            },
            0 => self.device.clone(),
            1 => format!("{} in 1 Web Worker", self.device),
            n => format!("{} in {n} Web Workers", self.device),
        };
        if !faults.is_empty() {
            place.push_str(&format!(
                " (a worker stopped: {}; its rows ran on the page thread)",
                faults.join("; ")
            ));
        }
        place
    }
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
/// calibrators) and shows the outputs; measures the page thread's longest frame gap meanwhile.
async fn run_all(models: &Rc<Models>) -> Result<(), String> {
    crate::frames::set_phase("starting the run");
    let gap = FrameGap::start();
    let result = run_and_show(models, &gap).await;
    let line = match &result {
        Ok(line) => line.clone(),
        Err(e) if e == CANCELLED => "Run cancelled; the previous results stay shown.".to_string(),
        Err(_) => "The run stopped.".to_string(),
    };
    let gap = gap.report_on("run-status");
    status(&format!(
        "{line} Longest frame gap of the page during the run: {gap}."
    ));
    result.map(|_| ())
}

/// Sets `name` on `#run-status` (the measurements the page test and the benchmark read).
fn set_status_data(name: &str, value: &str) {
    if let Ok(e) = dom::by_id("run-status") {
        let _ = e.set_attribute(name, value);
    }
}

/// The run proper: both precisions, the outputs shown (`gap` stops once they are drawn: it
/// measures the run and its display); the status line.
async fn run_and_show(models: &Rc<Models>, gap: &FrameGap) -> Result<String, String> {
    let scenario = crate::scenario::current();
    let (data, source, embedded) = chosen_data()?;
    let cols = models.columns_for(&data.label_names)?;
    let texts = data.texts();
    let ran = both(models, &texts, &cols, "").await?;
    // The last batch's answer ended the pass in this task: the outputs get their own.
    crate::frames::set_phase("computing the outputs");
    crate::frames::next_frame().await;
    let outputs = run::outputs_of(&data, &ran.fp32.logits, &ran.int4.logits)?;
    let shipped_check = match models.scenario {
        Some(s) if embedded => against_shipped(s, &outputs, models)?,
        _ => String::new(),
    };
    let val = if embedded && with_val() {
        let val = run::embedded_split_rows("val", texts.len())?;
        let val_ran = both(models, &val.texts(), &cols, "val rows: ").await?;
        Some(
            run::outputs_of(&val, &val_ran.fp32.logits, &val_ran.int4.logits)
                .map(|p| (val.len(), p))?,
        )
    } else {
        None
    };
    let source = match models.scenario {
        Some(s) => format!("the default model with the {s} head, {source}"),
        None => format!("{} with {source}", models.name),
    };
    crate::show::show_outputs_stepped(outputs, Some((&source, &models.name))).await?;
    gap.stop();
    let mut line = speed_line(&ran, models, texts.len());
    line.push_str(&shipped_check);
    if let Some((rows, pair)) = val {
        crate::outputs::set_calibration(scenario, pair, &models.name);
        line.push_str(&format!(
            " Train now fits calibrators on this model's outputs of the first {rows} val rows."
        ));
    }
    dom::set_body_flag("data-run-done", Some(&format!("{}", texts.len())));
    Ok(line)
}

/// The run's speeds (sentences/s and real tokens/s per precision, the workers) as a line, also
/// set as `data-` attributes of `#run-status`.
fn speed_line(ran: &Ran, models: &Models, n: usize) -> String {
    let per = |count: usize, secs: f64| count as f64 / secs.max(1e-9);
    let (s32, s4) = (per(n, ran.fp32.secs), per(n, ran.int4.secs));
    let (t32, t4) = (
        per(ran.tokens, ran.fp32.secs),
        per(ran.tokens, ran.int4.secs),
    );
    let workers = ran.fp32.workers.max(ran.int4.workers);
    set_status_data("data-workers", &workers.to_string());
    let on_page = ran.fp32.on_page + ran.int4.on_page;
    set_status_data("data-page-thread-batches", &on_page.to_string());
    set_status_data("data-tokens-per-s", &format!("{t32:.1}"));
    set_status_data("data-tokens-per-s-int4", &format!("{t4:.1}"));
    set_status_data("data-sentences-per-s", &format!("{s32:.2}"));
    format!(
        "{n} sentences: FP32 {s32:.1} sentences/s, {} {s4:.1} sentences/s ({} / FP32 = {:.2}x), \
         on {} in this page; {} real tokens: FP32 {t32:.0} tokens/s, {} {t4:.0} tokens/s. Every \
         table and diagram below now shows these outputs.",
        models.int4_title(),
        models.int4_title(),
        ran.fp32.secs / ran.int4.secs.max(1e-9),
        ran.place(),
        ran.tokens,
        models.int4_title(),
    )
}
