//! ONNX export of a trained head together with its standardizer, so the model that decides
//! "delete?" is not locked inside this crate: any ONNX runtime (ort, tract on the phone,
//! Netron for a look) can inspect or run it on raw feature rows and get the same
//! probabilities as [`Head::predict`] on standardised rows.
//!
//! Graph (opset 13): `features` f32 `[N, D]` -> Sub(mean) -> Div(scale) -> (MatMul -> Add
//! -> Relu)* -> MatMul -> Add -> Softmax(axis 1) -> `probabilities` f32 `[N, 2]`, column 1 =
//! P(delete). All parameters are initializers; `N` is a symbolic batch dimension.

use prost::Message;
use tract_onnx::pb::{
    attribute_proto::AttributeType,
    tensor_proto::DataType,
    tensor_shape_proto::{self, dimension},
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::error::Error;
use crate::learn::dataset::Standardizer;
use crate::learn::head::Head;

pub const INPUT: &str = "features";
pub const OUTPUT: &str = "probabilities";
const OPSET: i64 = 13;
/// IR version 7 is the one that goes with opset 13.
const IR_VERSION: i64 = 7;

/// Serialises `head` behind `standardizer` as an ONNX model; `metadata` becomes the model's
/// `metadata_props` (e.g. `("precious.training", json)`).
pub fn to_onnx(
    head: &Head,
    standardizer: &Standardizer,
    metadata: &[(&str, &str)],
) -> crate::Result<Vec<u8>> {
    let layers = head.layers();
    let d = standardizer.mean.len();
    if standardizer.scale.len() != d || layers[0].0.nrows() != d {
        return Err(Error::Invalid(format!(
            "export: standardizer has {d} means and {} scales, head takes {} inputs",
            standardizer.scale.len(),
            layers[0].0.nrows()
        )));
    }
    let mut initializer = vec![
        tensor("mean", &[d], standardizer.mean.iter().copied()),
        tensor("scale", &[d], standardizer.scale.iter().copied()),
    ];
    let mut node = vec![
        op("Sub", &[INPUT, "mean"], "centred"),
        op("Div", &["centred", "scale"], "x0"),
    ];
    let mut x = "x0".to_string();
    for (i, (w, b)) in layers.iter().enumerate() {
        let (wn, bn, mm, z) = (
            format!("w{i}"),
            format!("b{i}"),
            format!("mm{i}"),
            format!("z{i}"),
        );
        initializer.push(tensor(&wn, &[w.nrows(), w.ncols()], w.iter().copied()));
        initializer.push(tensor(&bn, &[b.len()], b.iter().copied()));
        node.push(op("MatMul", &[&x, &wn], &mm));
        node.push(op("Add", &[&mm, &bn], &z));
        x = if i + 1 < layers.len() {
            let a = format!("x{}", i + 1);
            node.push(op("Relu", &[&z], &a));
            a
        } else {
            z
        };
    }
    let mut softmax = op("Softmax", &[&x], OUTPUT);
    softmax.attribute.push(AttributeProto {
        name: "axis".into(),
        r#type: AttributeType::Int as i32,
        i: 1,
        ..Default::default()
    });
    node.push(softmax);

    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "precious".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "P(keep), P(delete) for raw (unstandardised) photo feature rows".into(),
        metadata_props: metadata
            .iter()
            .map(|&(k, v)| StringStringEntryProto {
                key: k.into(),
                value: v.into(),
            })
            .collect(),
        graph: Some(GraphProto {
            name: "precious_head".into(),
            node,
            initializer,
            input: vec![value_info(INPUT, d)],
            output: vec![value_info(OUTPUT, 2)],
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(model.encode_to_vec())
}

fn op(op_type: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        name: output.into(),
        op_type: op_type.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn tensor(name: &str, dims: &[usize], data: impl Iterator<Item = f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&n| n as i64).collect(),
        data_type: DataType::Float as i32,
        float_data: data.collect(),
        ..Default::default()
    }
}

/// An f32 `[N, cols]` value with a symbolic batch dimension `N`.
fn value_info(name: &str, cols: usize) -> ValueInfoProto {
    let dim = |v| tensor_shape_proto::Dimension {
        value: Some(v),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(dimension::Value::DimParam("N".into())),
                        dim(dimension::Value::DimValue(cols as i64)),
                    ],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::head::{fit, HeadConfig, Rng};
    use ndarray::Array2;
    use tract_onnx::prelude::*;

    const D: usize = 12;

    /// A head trained a few steps on random rows, and a standardizer far from the identity.
    fn trained(hidden: usize) -> (Head, Standardizer) {
        let mut rng = Rng::new(hidden as u64 + 1);
        let st = Standardizer {
            mean: (0..D).map(|_| 5.0 * rng.normal()).collect(),
            scale: (0..D).map(|_| 0.2 + 3.0 * rng.uniform()).collect(),
        };
        let x = st.apply(&random_rows(64, &st, &mut rng));
        let y: Vec<usize> = (0..64)
            .map(|i| (x[[i, 0]] + x[[i, 1]] > 0.0) as usize)
            .collect();
        let mut head = Head::new(
            D,
            HeadConfig {
                hidden,
                learning_rate: 0.05,
                ..HeadConfig::default()
            },
        );
        fit(&mut head, x.view(), &y, 20);
        (head, st)
    }

    /// Raw rows around the standardizer's means and scales, so they standardise to ~N(0, 1).
    fn random_rows(n: usize, st: &Standardizer, rng: &mut Rng) -> Array2<f32> {
        Array2::from_shape_fn((n, D), |(_, j)| st.mean[j] + st.scale[j] * rng.normal())
    }

    /// Runs the exported bytes with tract on `x`; `None` keeps the symbolic batch dimension.
    fn run(bytes: &[u8], x: &Array2<f32>, batch: Option<usize>) -> TractResult<Vec<f32>> {
        let mut model = tract_onnx::onnx().model_for_read(&mut &bytes[..])?;
        if let Some(n) = batch {
            model = model.with_input_fact(0, f32::fact([n, D]).into())?;
        }
        let plan = model.into_optimized()?.into_runnable()?;
        let input = Tensor::from_shape(&[x.nrows(), D], x.as_slice().unwrap())?;
        let out = plan.run(tvec!(input.into()))?;
        assert_eq!(out[0].shape(), &[x.nrows(), 2]);
        Ok(out[0]
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect())
    }

    #[test]
    fn tract_matches_the_native_head() -> TractResult<()> {
        for hidden in [0, 8] {
            let (head, st) = trained(hidden);
            let bytes = to_onnx(&head, &st, &[])?;
            let x = random_rows(16, &st, &mut Rng::new(99));
            let want = head.predict(st.apply(&x).view());
            let got = run(&bytes, &x, Some(16))?;
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want.iter()) {
                assert!(
                    (g - w).abs() < 1e-5,
                    "hidden {hidden}: onnx {g} vs native {w}"
                );
            }
            // Not a degenerate head: the probabilities actually vary across rows.
            let p = want.column(1);
            assert!(p.fold(0f32, |a, &b| a.max(b)) - p.fold(1f32, |a, &b| a.min(b)) > 0.05);
        }
        Ok(())
    }

    #[test]
    fn any_batch_size_runs() -> TractResult<()> {
        let (head, st) = trained(8);
        let bytes = to_onnx(&head, &st, &[])?;
        for n in [1, 5] {
            let x = random_rows(n, &st, &mut Rng::new(n as u64));
            let want = head.predict(st.apply(&x).view());
            for batch in [Some(n), None] {
                let got = run(&bytes, &x, batch)?;
                assert!(got
                    .iter()
                    .zip(want.iter())
                    .all(|(g, w)| (g - w).abs() < 1e-5));
            }
        }
        Ok(())
    }

    #[test]
    fn decodes_with_metadata_and_declared_signature() -> TractResult<()> {
        let (head, st) = trained(0);
        let json = r#"{"labels":120,"auc":0.91}"#;
        let bytes = to_onnx(&head, &st, &[("precious.training", json), ("k", "v")])?;
        let model = ModelProto::decode(&bytes[..])?;
        assert_eq!(model.producer_name, "precious");
        assert_eq!(model.opset_import[0].version, OPSET);
        let meta: Vec<(&str, &str)> = model
            .metadata_props
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(meta, [("precious.training", json), ("k", "v")]);
        let graph = model.graph.unwrap();
        assert_eq!(
            (graph.input[0].name.as_str(), graph.output[0].name.as_str()),
            (INPUT, OUTPUT)
        );
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Sub", "Div", "MatMul", "Add", "Softmax"]);
        Ok(())
    }

    #[test]
    fn mismatched_standardizer_is_rejected() {
        let (head, mut st) = trained(0);
        st.mean.pop();
        assert!(matches!(to_onnx(&head, &st, &[]), Err(Error::Invalid(_))));
    }

    #[test]
    #[ignore = "prints the size of a 1,300-input logistic head"]
    fn exported_size() {
        let head = Head::new(1300, HeadConfig::default());
        let st = Standardizer {
            mean: vec![0.5; 1300],
            scale: vec![2.0; 1300],
        };
        println!("{} bytes", to_onnx(&head, &st, &[]).unwrap().len());
    }
}
