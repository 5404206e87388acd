//! L2-regularised logistic regression, solved to convergence.
//!
//! Minimises `½‖w‖² + C Σ_i c_i log(1 + exp(−t_i (w·x_i + b)))` over `w` and the unpenalised
//! bias `b`, where `t_i = ±1` (delete = +1) and `c_i` are per-row weights (class-balanced:
//! `n / (2 n_class)`, sklearn's `class_weight="balanced"`). This is exactly sklearn's
//! `LogisticRegression(C, class_weight="balanced")`, the bar the head is measured against.
//!
//! A user labels tens to hundreds of photos, each a row of ~1,400 columns, so the optimum lies
//! in the span of the labelled rows (representer theorem): with the labelled Gram matrix
//! `K = X Xᵀ = U Λ Uᵀ`, the rows become `z_i = (U Λ^½)_i` in at most `n` dimensions, Newton's
//! method with a backtracking line search runs there (a few milliseconds), and
//! `w = Xᵀ U Λ^-½ β` maps the solution back. Deterministic, no learning rate, no step count.

use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// A fitted linear scorer: P(delete | x) = sigmoid(w·x + b).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Logistic {
    pub w: Vec<f32>,
    pub b: f32,
}

/// How the solve went, kept with the model.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Solve {
    pub iterations: usize,
    /// The objective at the solution, and the largest gradient component there.
    pub objective: f64,
    pub gradient: f64,
}

pub fn sigmoid(m: f64) -> f64 {
    if m >= 0.0 {
        1.0 / (1.0 + (-m).exp())
    } else {
        let e = m.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(-m))`, stable for large |m|.
fn log_loss(m: f64) -> f64 {
    if m > 0.0 {
        (-m).exp().ln_1p()
    } else {
        -m + m.exp().ln_1p()
    }
}

/// Class-balanced row weights: each class counts as much in total (`n / (2 n_class)`).
pub fn balanced(y: &[bool]) -> Vec<f64> {
    let n = y.len() as f64;
    let pos = y.iter().filter(|&&d| d).count() as f64;
    let per = |d: bool| {
        let m = if d { pos } else { n - pos };
        n / (2.0 * m.max(1.0))
    };
    y.iter().map(|&d| per(d)).collect()
}

/// Solves `A x = r` for a symmetric positive definite `A` by Cholesky; None if it is not.
fn cholesky_solve(a: &Array2<f64>, r: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let d = a[[i, i]] - s;
                if d <= 0.0 {
                    return None;
                }
                l[[i, i]] = d.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
        y[i] = (r[i] - s) / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (y[i] - s) / l[[i, i]];
    }
    Some(x)
}

/// Fits on rows `x` (one per label) with truth `y` (true = delete) and row weights `c`.
/// Both kinds must be present.
pub fn fit(x: ArrayView2<f32>, y: &[bool], c: &[f64], strength: f64) -> (Logistic, Solve) {
    let n = x.nrows();
    assert!(n == y.len() && n == c.len(), "one label and weight per row");
    let x64 = x.mapv(f64::from);
    let gram = x64.dot(&x64.t());
    let (vals, vecs) = gram
        .eigh()
        .expect("a symmetric Gram matrix has an eigendecomposition");
    // Directions the rows actually span (the Gram matrix is singular for repeated rows).
    let top = vals.iter().copied().fold(0.0f64, f64::max);
    let keep: Vec<usize> = (0..n).filter(|&k| vals[k] > top * 1e-10).collect();
    let r = keep.len();
    // z = U Λ^½ (n x r), then a column of ones for the bias.
    let mut z = Array2::<f64>::zeros((n, r + 1));
    for (col, &k) in keep.iter().enumerate() {
        let s = vals[k].sqrt();
        for i in 0..n {
            z[[i, col]] = vecs[[i, k]] * s;
        }
    }
    z.column_mut(r).fill(1.0);
    let t: Vec<f64> = y.iter().map(|&d| if d { 1.0 } else { -1.0 }).collect();
    let objective = |theta: &Array1<f64>| {
        let m = z.dot(theta);
        let reg: f64 = theta.iter().take(r).map(|v| v * v).sum::<f64>() * 0.5;
        reg + strength * (0..n).map(|i| c[i] * log_loss(t[i] * m[i])).sum::<f64>()
    };
    let mut theta = Array1::<f64>::zeros(r + 1);
    let mut f = objective(&theta);
    let mut solve = Solve::default();
    for it in 0..100 {
        let m = z.dot(&theta);
        // Gradient and Hessian of the objective in (β, b).
        let mut g = Array1::<f64>::zeros(r + 1);
        let mut dw = vec![0.0; n];
        for i in 0..n {
            let p = sigmoid(t[i] * m[i]);
            // d/dm of c log(1 + e^{-tm}) = -c t (1 - p)
            let coef = -strength * c[i] * t[i] * (1.0 - p);
            g.scaled_add(coef, &z.row(i));
            dw[i] = strength * c[i] * p * (1.0 - p);
        }
        for k in 0..r {
            g[k] += theta[k];
        }
        let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        solve = Solve {
            iterations: it,
            objective: f,
            gradient: gmax,
        };
        if gmax < 1e-9 * (1.0 + f.abs()) {
            break;
        }
        // H = Zᵀ D Z (+ the penalty's identity on β).
        let mut zd = z.clone();
        for (mut row, &d) in zd.axis_iter_mut(Axis(0)).zip(&dw) {
            row *= d.sqrt();
        }
        let mut h = zd.t().dot(&zd);
        for k in 0..r {
            h[[k, k]] += 1.0;
        }
        // The bias has no penalty: a tiny ridge keeps its row positive definite when every
        // prediction has saturated.
        h[[r, r]] += 1e-12 * (1.0 + h[[r, r]]);
        let step = match cholesky_solve(&h, &g) {
            Some(s) => s,
            None => g.clone(),
        };
        // Backtracking line search (Armijo) along the Newton direction.
        let slope = -g.dot(&step);
        let mut a = 1.0;
        let mut moved = false;
        while a > 1e-10 {
            let cand = &theta - &(&step * a);
            let fc = objective(&cand);
            if fc <= f + 1e-4 * a * slope {
                theta = cand;
                f = fc;
                moved = true;
                break;
            }
            a *= 0.5;
        }
        if !moved {
            break;
        }
    }
    // w = Xᵀ U Λ^-½ β
    let mut alpha = Array1::<f64>::zeros(n);
    for (col, &k) in keep.iter().enumerate() {
        let s = vals[k].sqrt();
        for i in 0..n {
            alpha[i] += vecs[[i, k]] * theta[col] / s;
        }
    }
    let w = x64.t().dot(&alpha);
    (
        Logistic {
            w: w.iter().map(|&v| v as f32).collect(),
            b: theta[r] as f32,
        },
        solve,
    )
}

impl Logistic {
    /// P(delete) of each row.
    pub fn p_delete(&self, x: ArrayView2<f32>) -> Array1<f32> {
        let w = ArrayView1::from(&self.w);
        x.dot(&w).mapv(|m| sigmoid(f64::from(m + self.b)) as f32)
    }

    /// The same scorer as a two-class softmax layer (`[inputs, 2]` weights, 2 biases), the form
    /// the ONNX export and ONNX Runtime's trainer use: logits `(−m/2, m/2)` give the same
    /// probabilities.
    pub fn as_softmax(&self) -> (Array2<f32>, Array1<f32>) {
        let d = self.w.len();
        let mut w = Array2::<f32>::zeros((d, 2));
        for (j, &v) in self.w.iter().enumerate() {
            w[[j, 0]] = -v / 2.0;
            w[[j, 1]] = v / 2.0;
        }
        (w, Array1::from(vec![-self.b / 2.0, self.b / 2.0]))
    }

    /// Back from the softmax form (another trainer's result).
    pub fn from_softmax(w: ArrayView2<f32>, b: ArrayView1<f32>) -> Logistic {
        Logistic {
            w: w.axis_iter(Axis(0)).map(|r| r[1] - r[0]).collect(),
            b: b[1] - b[0],
        }
    }
}

/// The objective at (w, b) in the original space, for checks against other solvers.
pub fn objective(x: ArrayView2<f32>, y: &[bool], c: &[f64], strength: f64, m: &Logistic) -> f64 {
    let w = ArrayView1::from(&m.w);
    let scores = x.dot(&w);
    let reg: f64 =
        m.w.iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            * 0.5;
    reg + strength
        * (0..y.len())
            .map(|i| {
                let t = if y[i] { 1.0 } else { -1.0 };
                c[i] * log_loss(t * f64::from(scores[i] + m.b))
            })
            .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::head::Rng;

    fn problem(n: usize, d: usize, seed: u64) -> (Array2<f32>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let y: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            rng.normal() * 0.5 + if j < 4 && y[i] { 0.8 } else { 0.0 }
        });
        (x, y)
    }

    /// Gradient of the primal objective by finite differences is ~0 at the solution, so the
    /// span trick found the true optimum, including with more columns than rows.
    #[test]
    fn the_solution_is_the_optimum() {
        for (n, d) in [(40, 10), (30, 200)] {
            let (x, y) = problem(n, d, 1);
            let c = balanced(&y);
            let (m, s) = fit(x.view(), &y, &c, 3.0);
            assert!(s.iterations < 60, "{s:?}");
            let f0 = objective(x.view(), &y, &c, 3.0, &m);
            let h = 1e-3f32;
            for j in (0..d).step_by(d / 5) {
                for sign in [-1.0, 1.0] {
                    let mut p = m.clone();
                    p.w[j] += sign * h;
                    assert!(objective(x.view(), &y, &c, 3.0, &p) >= f0 - 1e-6, "w{j}");
                }
            }
            for sign in [-1.0, 1.0] {
                let mut p = m.clone();
                p.b += sign * h;
                assert!(objective(x.view(), &y, &c, 3.0, &p) >= f0 - 1e-6, "bias");
            }
        }
    }

    #[test]
    fn separable_rows_are_learned_and_stronger_regularisation_shrinks_w() {
        let (x, y) = problem(60, 30, 2);
        let c = balanced(&y);
        let (m, _) = fit(x.view(), &y, &c, 10.0);
        let p = m.p_delete(x.view());
        let right = y
            .iter()
            .zip(p.iter())
            .filter(|(&t, &q)| (q >= 0.5) == t)
            .count();
        assert!(right >= 57, "{right}/60");
        let (weak, _) = fit(x.view(), &y, &c, 0.01);
        let norm = |m: &Logistic| m.w.iter().map(|v| v * v).sum::<f32>();
        assert!(norm(&weak) < norm(&m) / 10.0);
    }

    #[test]
    fn repeated_rows_and_the_softmax_form_agree() {
        let (x, y) = problem(20, 8, 3);
        let doubled = ndarray::concatenate(Axis(0), &[x.view(), x.view()]).unwrap();
        let yy: Vec<bool> = y.iter().chain(&y).copied().collect();
        let (m, _) = fit(doubled.view(), &yy, &balanced(&yy), 1.0);
        assert!(m.w.iter().all(|v| v.is_finite()));
        let (w, b) = m.as_softmax();
        let back = Logistic::from_softmax(w.view(), b.view());
        let (p, q) = (m.p_delete(x.view()), back.p_delete(x.view()));
        assert!(p.iter().zip(q.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
    }
}
