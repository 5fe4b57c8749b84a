//! The page's Web Workers: `min(navigator.hardwareConcurrency, 8)` module workers that load this
//! same wasm module (its JS glue, found from the page's `<link rel=modulepreload>` or module
//! script, imported by a small Blob-URL module), each with its own copy of the page's model, to
//! which batch runs are shared out; one more, the helper, for calibrator fits; and a short-lived
//! one that quantizes the page's own INT4 copy of a model. The page thread
//! only posts typed messages ([`crate::work`]) and draws.
//!
//! Each worker gets the page's FP32 model as safetensors bytes (the checkpoint writer) and its
//! `config.json`, and quantizes its INT4 copy itself with the page's code book; a new model, head
//! or code book is posted again. A worker that fails to start, panics or runs out of memory is
//! marked dead, its error text kept, and the caller runs what is left on the page thread.

use crate::dom;
use crate::try_it::{Build, Models};
use crate::work::{FitJob, FromWorker, ToWorker, Which, share, worker_count};
use futures_channel::oneshot;
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use qcal_model::{BertForSequenceClassification, Encoded, Weights};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, Event, MessageEvent, Url, Worker, WorkerOptions, WorkerType};

/// A final answer: the message and what came beside it (logits), or the error text.
type Reply = Result<(FromWorker, JsValue), String>;

/// Receives a worker's interim messages (a fit's steps and live calibrators).
type Listener = Rc<dyn Fn(&FromWorker)>;

/// What the page knows of one worker.
#[derive(Default)]
struct State {
    /// The worker has posted [`FromWorker::Ready`].
    ready: bool,
    /// Messages (and transfer lists) waiting for the worker to be ready.
    unsent: Vec<(JsValue, Array)>,
    /// Requests awaiting their final answer, in the order they were posted.
    pending: VecDeque<oneshot::Sender<Reply>>,
    /// Gets interim messages.
    listener: Option<Listener>,
    /// Why the worker is dead, once it is.
    dead: Option<String>,
}

/// One worker and its handlers (kept alive with it).
struct Slot {
    worker: Worker,
    state: Rc<RefCell<State>>,
    _handlers: [Closure<dyn FnMut(Event)>; 2],
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// The run workers and the model they hold.
struct Pool {
    slots: Vec<Rc<Slot>>,
    model: Weak<Models>,
    /// Every worker has answered the model's load without an error.
    loaded: Rc<Cell<bool>>,
}

thread_local! {
    /// The run workers, once started.
    static POOL: RefCell<Option<Rc<Pool>>> = const { RefCell::new(None) };
    /// The helper worker for fits, once started (terminated by a cancelled fit).
    static HELPER: RefCell<Option<Rc<Slot>>> = const { RefCell::new(None) };
    /// The Blob URL of the worker's start module.
    static START_URL: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Why workers cannot be used here, once known.
    static UNAVAILABLE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Workers for this browser (see [`worker_count`]).
pub fn size() -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    worker_count(cores as usize)
}

/// The absolute URL of the page's wasm-bindgen JS glue: the `<link rel=modulepreload>` of a
/// `.js` file, else the first `.js` a module script imports (Trunk's and `cargo xtask dist`'s
/// pages both have one).
fn glue_url() -> Result<String, String> {
    let doc = dom::document().map_err(|e| format!("{e:?}"))?;
    let link = doc
        .query_selector("link[rel=modulepreload][href$='.js']")
        .ok()
        .flatten()
        .and_then(|l| l.get_attribute("href"));
    let href = link.or_else(|| {
        let scripts = doc.query_selector_all("script[type=module]").ok()?;
        (0..scripts.length())
            .filter_map(|i| scripts.item(i)?.text_content())
            .find_map(|t| imported_js(&t))
    });
    let href = href.ok_or("the page names no JS glue to start a worker with")?;
    let base = doc.base_uri().ok().flatten().unwrap_or_default();
    Url::new_with_base(&href, &base)
        .map(|u| u.href())
        .map_err(|e| format!("{href}: {e:?}"))
}

/// The first `'….js'` or `"….js"` module a script imports (`from '…'`).
fn imported_js(script: &str) -> Option<String> {
    script.split("from ").skip(1).find_map(|rest| {
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let end = rest[1..].find(quote)?;
        let url = &rest[1..1 + end];
        url.ends_with(".js").then(|| url.to_string())
    })
}

/// The module every worker starts from ([`start_url`]); `GLUE` stands for the glue's URL.
const START_MODULE: &str = r#"import init from GLUE;
self.onmessage = (m) => {
  self.onmessage = null;
  init({ module_or_path: m.data ?? undefined })
    .catch((e) => self.postMessage({ fatal: String((e && e.stack) || e) }));
};
"#;

/// The Blob URL of the module every worker starts from: it imports the glue and waits for its
/// first message, the page's compiled `WebAssembly.Module` ([`spawn`] posts it), which the glue
/// instantiates (no download or compile in the worker, and V8 shares the module's code, tiered
/// up once for the page and every worker); were that message empty, the glue would fetch and
/// compile the wasm itself. The glue's start function then sees that it runs in a worker
/// (`worker::serve`).
fn start_url() -> Result<String, String> {
    if let Some(u) = START_URL.with_borrow(Clone::clone) {
        return Ok(u);
    }
    let glue = glue_url()?;
    let glue = serde_json::to_string(&glue).map_err(|e| e.to_string())?;
    let source = START_MODULE.replacen("GLUE", &glue, 1);
    let opts = BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&Array::of1(&source.into()), &opts)
        .map_err(|e| format!("{e:?}"))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    START_URL.set(Some(url.clone()));
    Ok(url)
}

/// Marks the worker of `state` dead with `why` and fails everything it owed.
fn kill(state: &RefCell<State>, why: String) {
    let pending: Vec<_> = {
        let mut s = state.borrow_mut();
        if s.dead.is_none() {
            s.dead = Some(why.clone());
        }
        s.unsent.clear();
        s.pending.drain(..).collect()
    };
    for p in pending {
        let _ = p.send(Err(why.clone()));
    }
}

/// Marks the worker of `state` dead after a failure; one that failed before it was ready
/// means module workers do not start here: workers are not tried again.
fn fail(state: &RefCell<State>, why: String) {
    if !state.borrow().ready {
        UNAVAILABLE.set(Some(why.clone()));
    }
    kill(state, why);
}

/// Handles one message from a worker.
fn on_message(worker: &Worker, state: &RefCell<State>, e: &MessageEvent) {
    let data = e.data();
    if let Some(fatal) = Reflect::get(&data, &"fatal".into())
        .ok()
        .and_then(|f| f.as_string())
    {
        return fail(state, format!("the worker could not start: {fatal}"));
    }
    let msg = Reflect::get(&data, &"msg".into())
        .map_err(|e| format!("{e:?}"))
        .and_then(|m| serde_wasm_bindgen::from_value::<FromWorker>(m).map_err(|e| e.to_string()));
    let beside = Reflect::get(&data, &"data".into()).unwrap_or(JsValue::UNDEFINED);
    match msg {
        Ok(FromWorker::Ready) => {
            let unsent = {
                let mut s = state.borrow_mut();
                s.ready = true;
                std::mem::take(&mut s.unsent)
            };
            for (m, t) in unsent {
                let _ = worker.post_message_with_transfer(&m, &t);
            }
        }
        Ok(FromWorker::Panicked { error }) => fail(state, format!("the worker panicked: {error}")),
        Ok(m @ (FromWorker::Step { .. } | FromWorker::Live { .. })) => {
            let listener = state.borrow().listener.clone();
            if let Some(l) = listener {
                l(&m);
            }
        }
        Ok(m) => {
            let next = state.borrow_mut().pending.pop_front();
            if let Some(p) = next {
                let _ = p.send(Ok((m, beside)));
            }
        }
        Err(e) => kill(state, format!("an unreadable answer from the worker: {e}")),
    }
}

/// The text of a worker's `error` / `messageerror` event.
fn error_text(e: &Event) -> String {
    match e.dyn_ref::<web_sys::ErrorEvent>() {
        Some(err) if !err.message().is_empty() => format!("the worker failed: {}", err.message()),
        _ => format!(
            "the worker failed ({}; e.g. its script did not load or it ran out of memory)",
            e.type_()
        ),
    }
}

/// Starts worker number `n`.
fn spawn(n: usize) -> Result<Rc<Slot>, String> {
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    opts.set_name(&format!("qcal worker {n}"));
    let worker = Worker::new_with_options(&start_url()?, &opts).map_err(|e| format!("{e:?}"))?;
    // The page's module (see `start_url`); one that cannot be posted leaves the worker to fetch
    // and compile its own.
    if worker.post_message(&wasm_bindgen::module()).is_err() {
        worker
            .post_message(&JsValue::UNDEFINED)
            .map_err(|e| format!("{e:?}"))?;
    }
    let state = Rc::new(RefCell::new(State::default()));
    let (w, s) = (worker.clone(), state.clone());
    let on_msg = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        if let Some(e) = e.dyn_ref::<MessageEvent>() {
            on_message(&w, &s, e);
        }
    });
    let s = state.clone();
    let on_err = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        e.prevent_default();
        fail(&s, error_text(&e));
    });
    worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    let _ =
        worker.add_event_listener_with_callback("messageerror", on_err.as_ref().unchecked_ref());
    Ok(Rc::new(Slot {
        worker,
        state,
        _handlers: [on_msg, on_err],
    }))
}

/// Posts `msg` (with `data` beside it, its buffer transferred when `transfer`) to `slot` and
/// returns the receiver of its final answer.
fn post(
    slot: &Slot,
    msg: &ToWorker,
    data: Option<&JsValue>,
    transfer: bool,
) -> oneshot::Receiver<Reply> {
    let (tx, rx) = oneshot::channel();
    if let Some(why) = slot.state.borrow().dead.clone() {
        let _ = tx.send(Err(why));
        return rx;
    }
    let envelope = Object::new();
    let value = match serde_wasm_bindgen::to_value(msg) {
        Ok(v) => v,
        Err(e) => {
            let _ = tx.send(Err(e.to_string()));
            return rx;
        }
    };
    let _ = Reflect::set(&envelope, &"msg".into(), &value);
    let list = Array::new();
    if let Some(d) = data {
        let _ = Reflect::set(&envelope, &"data".into(), d);
        if transfer && let Ok(buf) = Reflect::get(d, &"buffer".into()) {
            list.push(&buf);
        }
    }
    let mut s = slot.state.borrow_mut();
    s.pending.push_back(tx);
    if s.ready {
        drop(s);
        if let Err(e) = slot.worker.post_message_with_transfer(&envelope, &list) {
            kill(&slot.state, format!("posting to the worker failed: {e:?}"));
        }
    } else {
        s.unsent.push((envelope.into(), list));
    }
    rx
}

/// Awaits a final answer; a [`FromWorker::Failed`] one is an error.
async fn answer(rx: oneshot::Receiver<Reply>) -> Reply {
    match rx.await {
        Ok(Ok((FromWorker::Failed { error }, _))) => Err(error),
        Ok(reply) => reply,
        Err(_) => Err("the worker was stopped".into()),
    }
}

/// Why workers are not used here, if they are not.
pub fn unavailable() -> Option<String> {
    UNAVAILABLE.with_borrow(Clone::clone)
}

/// The run workers holding `models` (started, and the model posted, as needed); an error when
/// workers cannot be used here (the caller runs on the page thread).
fn pool_for(models: &Rc<Models>) -> Result<Rc<Pool>, String> {
    if let Some(why) = unavailable() {
        return Err(why);
    }
    let current = POOL.with_borrow(Clone::clone);
    let alive = |p: &Pool| p.slots.iter().all(|s| s.state.borrow().dead.is_none());
    let same = current
        .as_ref()
        .is_some_and(|p| alive(p) && Weak::ptr_eq(&p.model, &Rc::downgrade(models)));
    if let (true, Some(p)) = (same, &current) {
        return Ok(p.clone());
    }
    let slots = match current.filter(|p| alive(p)) {
        Some(p) => p.slots.clone(),
        None => start_slots().inspect_err(|e| UNAVAILABLE.set(Some(e.clone())))?,
    };
    let loaded = Rc::new(Cell::new(false));
    load(&slots, models, loaded.clone())?;
    let pool = Rc::new(Pool {
        slots,
        model: Rc::downgrade(models),
        loaded,
    });
    POOL.set(Some(pool.clone()));
    Ok(pool)
}

/// Starts [`size`] workers.
fn start_slots() -> Result<Vec<Rc<Slot>>, String> {
    if js_sys::Reflect::get(&js_sys::global(), &"Worker".into()).is_ok_and(|w| w.is_undefined()) {
        return Err("this browser has no Web Workers".into());
    }
    (1..=size()).map(spawn).collect()
}

/// Posts `models`' FP32 model (safetensors bytes, copied to each worker) and its code book to
/// every worker; `#worker-status` says when they hold it and how much memory their copies take,
/// and `loaded` is set once all do.
fn load(slots: &[Rc<Slot>], models: &Rc<Models>, loaded: Rc<Cell<bool>>) -> Result<(), String> {
    let bytes = models.fp32.to_safetensors().map_err(|e| e.to_string())?;
    let config = serde_json::to_string(&models.fp32.config).map_err(|e| e.to_string())?;
    let array: JsValue = Uint8Array::from(&bytes[..]).into();
    drop(bytes);
    let msg = ToWorker::Load {
        config,
        format: models.format.name().to_string(),
    };
    let loads: Vec<_> = slots
        .iter()
        .map(|s| post(s, &msg, Some(&array), false))
        .collect();
    let (n, (fp32, int4)) = (slots.len(), models.bytes);
    let title = models.title();
    let _ = dom::set_text(
        "worker-status",
        &format!("Posting {title} to {n} Web Workers…"),
    );
    wasm_bindgen_futures::spawn_local(async move {
        let mut failed = Vec::new();
        for rx in loads {
            if let Err(e) = answer(rx).await {
                failed.push(e);
            }
        }
        loaded.set(failed.is_empty());
        let each = (fp32 + int4) as f64 / 1e6;
        let line = if failed.is_empty() {
            format!(
                "Run works in {n} Web Workers, each holding its own copy of {title} at FP32 and \
                 INT4 (quantized in the worker): {n} x {each:.1} MB = {:.1} MB.",
                n as f64 * each
            )
        } else {
            format!(
                "{} of {n} Web Workers could not load the model ({}); their share of a run \
                 runs on the page thread.",
                failed.len(),
                failed.join("; ")
            )
        };
        let _ = dom::set_text("worker-status", &line);
    });
    Ok(())
}

/// Starts the workers and posts `models` to them in the background (a no-op when they hold it
/// already); where workers cannot be used, `#worker-status` says why.
pub fn prepare(models: &Rc<Models>) {
    if let Err(e) = pool_for(models) {
        let _ = dom::set_text(
            "worker-status",
            &format!("Web Workers are not used ({e}); runs and fits run on the page thread."),
        );
    }
}

/// Whether `pool` is the page's pool (not replaced, for another model, since).
fn is_current(pool: &Rc<Pool>) -> bool {
    POOL.with_borrow(|p| p.as_ref().is_some_and(|p| Rc::ptr_eq(p, pool)))
}

/// Whether the workers hold `models`, loaded (Try it asks them only then, so that its first
/// answer does not wait for a load).
pub fn holds(models: &Rc<Models>) -> bool {
    POOL.with_borrow(|p| {
        p.as_ref().is_some_and(|p| {
            p.loaded.get()
                && Weak::ptr_eq(&p.model, &Rc::downgrade(models))
                && p.slots.iter().all(|s| s.state.borrow().dead.is_none())
        })
    })
}

/// What a batch run in the workers gave.
pub struct Shared {
    /// Each batch's logits `[B, K]`, `None` for a batch a worker did not run (it failed, or
    /// the run was cancelled).
    pub logits: Vec<Option<Vec<f32>>>,
    /// Workers used.
    pub workers: usize,
    /// Why workers stopped, if any did.
    pub faults: Vec<String>,
    /// Milliseconds of the forward passes in all, as the workers measured them.
    pub forward_ms: f64,
}

/// Runs `batches` on `which` model in the workers holding `models`, contiguous ranges of
/// batches per worker, calling `done(rows)` after each batch; stops posting once `cancel` is
/// set. An error when workers cannot be used.
pub async fn run(
    models: &Rc<Models>,
    which: Which,
    batches: &[Encoded],
    cancel: Rc<Cell<bool>>,
    done: Rc<dyn Fn(usize)>,
) -> Result<Shared, String> {
    let pool = pool_for(models)?;
    let ranges = share(batches.len(), pool.slots.len());
    let logits = Rc::new(RefCell::new(vec![None; batches.len()]));
    let faults = Rc::new(RefCell::new(Vec::new()));
    let forward_ms = Rc::new(Cell::new(0.0));
    let mut finished = Vec::new();
    for (slot, range) in pool.slots.iter().zip(ranges.iter().cloned()) {
        let (tx, rx) = oneshot::channel::<()>();
        finished.push(rx);
        let (slot, logits, faults) = (slot.clone(), logits.clone(), faults.clone());
        let (forward_ms, pool) = (forward_ms.clone(), pool.clone());
        let (cancel, done) = (cancel.clone(), done.clone());
        let work: Vec<(usize, Encoded)> = range.map(|b| (b, batches[b].clone())).collect();
        wasm_bindgen_futures::spawn_local(async move {
            for (b, enc) in work {
                if cancel.get() {
                    break;
                }
                if !is_current(&pool) {
                    faults
                        .borrow_mut()
                        .push("the page's model changed during the run".into());
                    break;
                }
                let rows = enc.batch;
                let msg = run_message(which, enc);
                match answer(post(&slot, &msg, None, false)).await {
                    Ok((FromWorker::Logits { ms }, data)) => {
                        forward_ms.set(forward_ms.get() + ms);
                        match data.dyn_into::<Float32Array>() {
                            Ok(a) => logits.borrow_mut()[b] = Some(a.to_vec()),
                            Err(other) => {
                                faults.borrow_mut().push(format!(
                                    "logits came as {}, not a Float32Array",
                                    other.js_typeof().as_string().unwrap_or_default()
                                ));
                                break;
                            }
                        }
                        done(rows);
                    }
                    Err(error) => {
                        faults.borrow_mut().push(error);
                        break;
                    }
                    Ok((other, _)) => {
                        faults
                            .borrow_mut()
                            .push(format!("an unexpected answer: {other:?}"));
                        break;
                    }
                }
            }
            let _ = tx.send(());
        });
    }
    for rx in finished {
        let _ = rx.await;
    }
    let logits = logits.take();
    let faults = faults.take();
    Ok(Shared {
        logits,
        workers: ranges.len(),
        faults,
        forward_ms: forward_ms.get(),
    })
}

/// The message that runs `batch` on `which` model in a worker.
fn run_message(which: Which, batch: Encoded) -> ToWorker {
    ToWorker::Run {
        which,
        tokens: batch.into(),
    }
}

/// Builds and converts the run message of `batch` as [`run`] and [`post`] do, and drops it: the
/// page thread's warm-up (`run_view::warm_up`).
pub fn warm_up_message(batch: Encoded) {
    let _ = serde_wasm_bindgen::to_value(&run_message(Which::Fp32, batch));
}

/// The helper worker (started as needed).
fn helper() -> Result<Rc<Slot>, String> {
    if let Some(why) = unavailable() {
        return Err(why);
    }
    let alive = HELPER
        .with_borrow(Clone::clone)
        .filter(|s| s.state.borrow().dead.is_none());
    if let Some(s) = alive {
        return Ok(s);
    }
    let s = spawn(0).inspect_err(|e| UNAVAILABLE.set(Some(e.clone())))?;
    HELPER.set(Some(s.clone()));
    Ok(s)
}

/// The models of `build` with their INT4 copy quantized in a worker (sent back as
/// safetensors bytes and loaded here); where that fails, quantized here step by step with
/// `progress(fraction)` and a yield to the browser between steps.
pub async fn quantize(mut build: Build, progress: &dyn Fn(f64)) -> Result<Models, String> {
    match quantize_in_worker(&build).await {
        Ok(int4) => return build.with_int4(int4),
        Err(e) => {
            web_sys::console::warn_1(&format!("qcal: quantizing on the page thread: {e}").into())
        }
    }
    loop {
        progress(build.done() as f64 / build.steps().max(1) as f64);
        crate::clock::yield_to_browser().await;
        if build.step()? {
            break;
        }
    }
    build.finish()
}

/// `build`'s FP32 model quantized with its code book in a worker of its own (terminated after,
/// which frees its memory).
async fn quantize_in_worker(build: &Build) -> Result<BertForSequenceClassification, String> {
    if let Some(why) = unavailable() {
        return Err(why);
    }
    let slot = spawn(0).inspect_err(|e| UNAVAILABLE.set(Some(e.clone())))?;
    let fp32 = build.fp32();
    let bytes = fp32.to_safetensors().map_err(|e| e.to_string())?;
    let array: JsValue = Uint8Array::from(&bytes[..]).into();
    drop(bytes);
    let msg = ToWorker::Quantize {
        config: serde_json::to_string(&fp32.config).map_err(|e| e.to_string())?,
        format: build.format().name().to_string(),
    };
    let (_, data) = answer(post(&slot, &msg, Some(&array), true)).await?;
    let bytes = data
        .dyn_into::<Uint8Array>()
        .map_err(|_| "no INT4 bytes in the answer")?
        .to_vec();
    let weights = Weights::from_bytes(bytes).map_err(|e| e.to_string())?;
    BertForSequenceClassification::load(&weights, &build.fp32().config).map_err(|e| e.to_string())
}

/// Fits `job` in the helper worker (started as needed), handing its steps and live calibrators to
/// `listener`; the fitted calibrator's JSON, or the error text (the worker's failure, or
/// "cancelled" after [`cancel_fit`]).
pub async fn fit(job: FitJob, listener: Listener) -> Result<String, String> {
    let slot = helper()?;
    slot.state.borrow_mut().listener = Some(listener);
    let reply = answer(post(&slot, &ToWorker::Fit(Box::new(job)), None, false)).await;
    slot.state.borrow_mut().listener = None;
    match reply? {
        (FromWorker::Fitted { calibrator }, _) => Ok(calibrator),
        (other, _) => Err(format!("an unexpected answer: {other:?}")),
    }
}

/// Stops the fit under way by terminating the helper worker (a new one starts when next
/// needed).
pub fn cancel_fit() {
    if let Some(slot) = HELPER.take() {
        kill(&slot.state, "cancelled".into());
    }
}
