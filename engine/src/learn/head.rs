//! The classifier head: logistic regression or one hidden ReLU layer over a photo's feature
//! vector, two classes (0 = keep, 1 = delete), trained with AdamW on a weighted
//! cross-entropy. Every training signal is a (row, target class, weight) triple, so the
//! supervised loss, class balancing and FixMatch's masked pseudo-label loss all go through the
//! one step function. Plain ndarray, deterministic for a seed.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HeadConfig {
    /// Hidden units; 0 = logistic regression.
    pub hidden: usize,
    pub learning_rate: f32,
    /// Decoupled weight decay (AdamW), applied to every parameter, biases included, as
    /// `torch.optim.AdamW` does.
    pub weight_decay: f32,
    pub seed: u64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        HeadConfig {
            hidden: 0,
            learning_rate: 0.01,
            weight_decay: 1e-3,
            seed: 0,
        }
    }
}

/// Adam's first and second moment estimates for one layer.
#[derive(Clone, Debug)]
struct Moments {
    mw: Array2<f32>,
    mb: Array1<f32>,
    vw: Array2<f32>,
    vb: Array1<f32>,
}

/// One dense layer's parameters with their Adam moments.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Dense {
    w: Array2<f32>,
    b: Array1<f32>,
    #[serde(skip)]
    m: Option<Moments>,
}

impl Dense {
    fn new(inputs: usize, outputs: usize, rng: &mut Rng) -> Dense {
        // He/Glorot-style scale keeps early activations in range.
        let scale = (2.0 / (inputs + outputs) as f32).sqrt();
        Dense {
            w: Array2::from_shape_fn((inputs, outputs), |_| rng.normal() * scale),
            b: Array1::zeros(outputs),
            m: None,
        }
    }

    fn forward(&self, x: &ArrayView2<f32>) -> Array2<f32> {
        x.dot(&self.w) + &self.b
    }

    fn adamw(&mut self, gw: &Array2<f32>, gb: &Array1<f32>, lr: f32, wd: f32, t: i32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let m = self.m.get_or_insert_with(|| Moments {
            mw: Array2::zeros(gw.raw_dim()),
            mb: Array1::zeros(gb.raw_dim()),
            vw: Array2::zeros(gw.raw_dim()),
            vb: Array1::zeros(gb.raw_dim()),
        });
        m.mw = &m.mw * b1 + gw * (1.0 - b1);
        m.mb = &m.mb * b1 + gb * (1.0 - b1);
        m.vw = &m.vw * b2 + &(gw * gw) * (1.0 - b2);
        m.vb = &m.vb * b2 + &(gb * gb) * (1.0 - b2);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        self.w *= 1.0 - lr * wd;
        self.b *= 1.0 - lr * wd;
        self.w -= &((&m.mw / c1) / ((&m.vw / c2).mapv(f32::sqrt) + eps) * lr);
        self.b -= &((&m.mb / c1) / ((&m.vb / c2).mapv(f32::sqrt) + eps) * lr);
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Head {
    pub config: HeadConfig,
    hidden: Option<Dense>,
    out: Dense,
    steps: i32,
}

/// A small deterministic generator (xorshift64*), enough for initialisation and sampling.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fisher-Yates shuffle in place.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let (u1, u2) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
    }
}

fn softmax_rows(z: &Array2<f32>) -> Array2<f32> {
    let mut p = z.clone();
    for mut row in p.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row /= sum;
    }
    p
}

impl Head {
    /// A logistic head with the given weights `[inputs, 2]` and bias `[2]`, and fresh AdamW
    /// moments (how the logistic regression comes in for the ONNX export).
    pub fn logistic(config: HeadConfig, w: Array2<f32>, b: Array1<f32>) -> Head {
        assert_eq!(config.hidden, 0, "a logistic head has no hidden layer");
        assert_eq!((w.ncols(), b.len()), (2, 2), "two classes");
        Head {
            config,
            hidden: None,
            out: Dense { w, b, m: None },
            steps: 0,
        }
    }

    pub fn new(inputs: usize, config: HeadConfig) -> Head {
        let mut rng = Rng::new(config.seed);
        let hidden = (config.hidden > 0).then(|| Dense::new(inputs, config.hidden, &mut rng));
        let out = Dense::new(
            if config.hidden > 0 {
                config.hidden
            } else {
                inputs
            },
            2,
            &mut rng,
        );
        Head {
            config,
            hidden,
            out,
            steps: 0,
        }
    }

    /// Class probabilities, one row per input row: column 1 is P(delete).
    pub fn predict(&self, x: ArrayView2<f32>) -> Array2<f32> {
        match &self.hidden {
            Some(h) => softmax_rows(&self.out.forward(&h.forward(&x).mapv(|v| v.max(0.0)).view())),
            None => softmax_rows(&self.out.forward(&x)),
        }
    }

    /// The dense layers in order as (weights `[inputs, outputs]`, bias), a ReLU between each.
    pub fn layers(&self) -> Vec<(ArrayView2<'_, f32>, ndarray::ArrayView1<'_, f32>)> {
        let layers = self.hidden.iter().chain([&self.out]);
        layers.map(|d| (d.w.view(), d.b.view())).collect()
    }

    pub fn p_delete(&self, x: ArrayView2<f32>) -> Array1<f32> {
        self.predict(x).column(1).to_owned()
    }

    /// One AdamW step on sum_i w_i * CE(p(x_i), y_i) / sum_i w_i. Rows with weight 0 (e.g.
    /// unconfident pseudo-labels) contribute nothing. Returns the loss before the step.
    pub fn step(&mut self, x: ArrayView2<f32>, y: &[usize], w: &[f32]) -> f32 {
        let total: f32 = w.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        self.steps += 1;
        let (hid, z_in) = match &self.hidden {
            Some(h) => {
                let pre = h.forward(&x);
                let act = pre.mapv(|v| v.max(0.0));
                (Some(pre), act)
            }
            None => (None, x.to_owned()),
        };
        let z = self.out.forward(&z_in.view());
        let p = softmax_rows(&z);
        // dL/dz = w_i (p_i - onehot(y_i)) / total
        let mut dz = p.clone();
        let mut loss = 0.0;
        for (i, (&yi, &wi)) in y.iter().zip(w).enumerate() {
            // -log softmax(z)_y from the logits: exact where p underflows (a confident wrong
            // pseudo-label), as ONNX Runtime's SoftmaxCrossEntropyLoss computes it.
            let row = z.row(i);
            let max = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let log_sum = row.iter().map(|v| (v - max).exp()).sum::<f32>().ln() + max;
            if wi != 0.0 {
                loss += wi * (log_sum - z[[i, yi]]);
            }
            dz[[i, yi]] -= 1.0;
            dz.row_mut(i).mapv_inplace(|v| v * wi / total);
        }
        let (lr, wd, t) = (
            self.config.learning_rate,
            self.config.weight_decay,
            self.steps,
        );
        let gw_out = z_in.t().dot(&dz);
        let gb_out = dz.sum_axis(Axis(0));
        if let (Some(h), Some(pre)) = (self.hidden.as_mut(), hid) {
            let mut dh = dz.dot(&self.out.w.t());
            dh.zip_mut_with(&pre, |g, &v| {
                if v <= 0.0 {
                    *g = 0.0
                }
            });
            let gw = x.t().dot(&dh);
            let gb = dh.sum_axis(Axis(0));
            h.adamw(&gw, &gb, lr, wd, t);
        }
        self.out.adamw(&gw_out, &gb_out, lr, wd, t);
        loss / total
    }
}

/// Weights that make each class count equally (many users keep most photos).
pub fn balanced_weights(y: &[usize]) -> Vec<f32> {
    let n = y.len() as f32;
    let pos = y.iter().filter(|&&c| c == 1).count() as f32;
    let per = [n / (2.0 * (n - pos).max(1.0)), n / (2.0 * pos.max(1.0))];
    y.iter().map(|&c| per[c]).collect()
}

/// Full-batch supervised training for `steps` steps; returns the loss curve.
pub fn fit(head: &mut Head, x: ArrayView2<f32>, y: &[usize], steps: usize) -> Vec<f32> {
    let w = balanced_weights(y);
    (0..steps).map(|_| head.step(x, y, &w)).collect()
}

/// Rows `idx` of `x` (a mini-batch).
pub fn rows(x: ArrayView2<f32>, idx: &[usize]) -> Array2<f32> {
    let mut out = Array2::zeros((idx.len(), x.ncols()));
    for (r, &i) in idx.iter().enumerate() {
        out.slice_mut(s![r, ..]).assign(&x.row(i));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two Gaussian blobs in 20-D, separated along a random direction; labels optionally shuffled.
    fn blobs(n: usize, seed: u64, shuffle: bool) -> (Array2<f32>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let mut y: Vec<usize> = (0..n).map(|i| (i % 3 == 0) as usize).collect();
        let x = Array2::from_shape_fn((n, 20), |(i, j)| {
            rng.normal() + if j < 3 { 3.0 * y[i] as f32 } else { 0.0 }
        });
        if shuffle {
            rng.shuffle(&mut y);
        }
        (x, y)
    }

    pub(crate) fn accuracy(head: &Head, x: &Array2<f32>, y: &[usize]) -> f32 {
        let p = head.p_delete(x.view());
        y.iter()
            .zip(p.iter())
            .filter(|(&c, &q)| (q >= 0.5) as usize == c)
            .count() as f32
            / y.len() as f32
    }

    #[test]
    fn separable_problem_is_learned_and_the_loss_falls() {
        for hidden in [0, 16] {
            let (x, y) = blobs(300, 1, false);
            let mut head = Head::new(
                20,
                HeadConfig {
                    hidden,
                    ..HeadConfig::default()
                },
            );
            let losses = fit(&mut head, x.view(), &y, 300);
            assert!(
                losses[losses.len() - 1] < losses[0] * 0.2,
                "hidden {hidden}: {} -> {}",
                losses[0],
                losses[losses.len() - 1]
            );
            let (xt, yt) = blobs(300, 2, false);
            assert!(
                accuracy(&head, &xt, &yt) > 0.97,
                "hidden {hidden}: {}",
                accuracy(&head, &xt, &yt)
            );
        }
    }

    #[test]
    fn shuffled_labels_score_near_chance_on_held_out_data() {
        let (x, y) = blobs(300, 3, true);
        let mut head = Head::new(
            20,
            HeadConfig {
                hidden: 16,
                ..HeadConfig::default()
            },
        );
        fit(&mut head, x.view(), &y, 300);
        let (xt, yt) = blobs(3000, 4, true);
        // Balanced accuracy: a model that learnt nothing real scores ~0.5.
        let p = head.p_delete(xt.view());
        let rate = |c: usize| {
            let idx: Vec<usize> = (0..yt.len()).filter(|&i| yt[i] == c).collect();
            idx.iter().filter(|&&i| (p[i] >= 0.5) as usize == c).count() as f32 / idx.len() as f32
        };
        let balanced = (rate(0) + rate(1)) / 2.0;
        assert!(
            (balanced - 0.5).abs() < 0.06,
            "balanced accuracy {balanced}"
        );
    }

    #[test]
    fn training_is_deterministic_for_a_seed() {
        let (x, y) = blobs(200, 5, false);
        let run = |seed| {
            let mut h = Head::new(
                20,
                HeadConfig {
                    hidden: 8,
                    seed,
                    ..HeadConfig::default()
                },
            );
            fit(&mut h, x.view(), &y, 50);
            h.p_delete(x.view())
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn zero_weights_are_ignored() {
        let (x, y) = blobs(100, 6, false);
        let mut a = Head::new(20, HeadConfig::default());
        let mut b = a.clone();
        let w: Vec<f32> = (0..100).map(|i| if i < 50 { 1.0 } else { 0.0 }).collect();
        a.step(x.view(), &y, &w);
        let idx: Vec<usize> = (0..50).collect();
        b.step(rows(x.view(), &idx).view(), &y[..50], &w[..50]);
        let (pa, pb) = (a.p_delete(x.view()), b.p_delete(x.view()));
        assert!(pa.iter().zip(pb.iter()).all(|(p, q)| (p - q).abs() < 1e-6));
    }
}
