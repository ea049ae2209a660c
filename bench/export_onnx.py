# SPDX-License-Identifier: ISC
"""Export the benchmark model to ONNX for the ONNX Runtime leg of the bench.

usage: export_onnx.py MODEL_DIR OUT.onnx

The same safetensors file, loaded into torchvision with the reference
tests' numpy reader, exported in eval mode (batch norm folded into the
convolutions by the exporter) with opset 13, input "input", output
"logits" and a dynamic batch axis.  The graph is checked with the onnx
package when it is installed.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: export_onnx.py MODEL_DIR OUT.onnx")
    model_dir, out = sys.argv[1:3]

    import torch

    from st_numpy import torch_model

    with open(os.path.join(model_dir, "config.json")) as f:
        conf = json.load(f)
    net = torch_model(conf["architecture"],
                      os.path.join(model_dir, "model.safetensors"),
                      conf["num_classes"])
    x = torch.zeros(1, 3, conf["input"]["height"], conf["input"]["width"])
    with torch.no_grad():
        torch.onnx.export(net, x, out, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"},
                                        "logits": {0: "batch"}})
    try:
        import onnx
    except ImportError:
        print("export: %s (onnx package missing, graph not checked)" % out)
        return 0
    m = onnx.load(out)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("export: opset 13, %d nodes (%s)" % (
        len(m.graph.node),
        ", ".join("%s %d" % kv for kv in sorted(ops.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
