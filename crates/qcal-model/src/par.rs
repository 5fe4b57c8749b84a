//! Data parallelism: rayon natively, a plain loop on wasm32 (no threads there).

/// Runs `f` on every item, in parallel where threads exist.
#[cfg(not(target_arch = "wasm32"))]
pub fn for_each<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync + Send) {
    use rayon::prelude::*;
    items.into_par_iter().for_each(f);
}

/// Runs `f` on every item, in parallel where threads exist.
#[cfg(target_arch = "wasm32")]
pub fn for_each<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync + Send) {
    items.into_iter().for_each(f);
}

/// Maps every item, in parallel where threads exist; results keep the input order.
#[cfg(not(target_arch = "wasm32"))]
pub fn map<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.into_par_iter().map(f).collect()
}

/// Maps every item, in parallel where threads exist; results keep the input order.
#[cfg(target_arch = "wasm32")]
pub fn map<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
    items.into_iter().map(f).collect()
}

/// Number of worker threads (1 on wasm32).
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

/// Splits `data` into consecutive mutable chunks of the given lengths (which must sum to at
/// most `data.len()`; a shortfall leaves the tail out).
pub fn split_lengths<'a, T>(mut data: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(lengths.len());
    for &len in lengths {
        let take = len.min(data.len());
        let (head, tail) = std::mem::take(&mut data).split_at_mut(take);
        out.push(head);
        data = tail;
    }
    out
}

/// Applies `f(row_index, row)` to every `width`-long row of `data`, in parallel chunks.
pub fn rows_mut(data: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if width == 0 {
        return;
    }
    let rows = data.len() / width;
    let per = rows.div_ceil(threads() * 4).max(16);
    let chunks: Vec<(usize, &mut [f32])> = data
        .chunks_mut(per * width)
        .enumerate()
        .map(|(i, c)| (i * per, c))
        .collect();
    for_each(chunks, |(r0, chunk)| {
        for (i, row) in chunk.chunks_exact_mut(width).enumerate() {
            f(r0 + i, row);
        }
    });
}
