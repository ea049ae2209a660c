# SPDX-License-Identifier: ISC
"""The reference server for bench/serve: the usual Flask + PyTorch stack.

A Flask app that classifies images with torchvision's ResNet-18, loaded
with the same weights as aiguardd (the model directory's model.safetensors,
read by the numpy-only reader of the reference tests), the same
preprocessing values (config.json's input.resize, mean, std) and the same
labels (labels.txt).  It is what the classic "serve a PyTorch model with
Flask" article does: PIL open + convert("RGB"), Resize, CenterCrop, ToTensor,
Normalize, the model in eval mode under torch.no_grad(), softmax, top 5.

Endpoints (the same paths as aiguardd):
  POST /v2/models/<name>/classify   body: a raw image/jpeg or image/png
        (or application/octet-stream), or a multipart form whose field
        "file" holds the image (request.files['file'], as the article);
        answers {"model_name": ..., "predictions": [{"index", "label",
        "probability"}, ...]} with the top 5, highest first.
  GET  /v2/health/ready             200 once the model is loaded (it is
        loaded before the server listens)
  GET  /v2/health/live              200

Run it either way:
  python3 app.py --port P [--host H] [--model DIR] [--threads N]
        Flask's built-in server, threaded (one process, one thread per
        connection), as the article does;
  AIGUARD_REF_MODEL=DIR AIGUARD_REF_THREADS=N \\
      gunicorn -w 2 -b 127.0.0.1:P --chdir bench/reference 'app:create_app()'
        gunicorn sync workers; each worker imports torch and loads its own
        copy of the model (no --preload, the usual setup).
  create_app(model_dir=..., threads=...) also takes the values as
  arguments; they override the environment.

Environment: AIGUARD_REF_MODEL (model directory, default
build/models/resnet18 of the repository), AIGUARD_REF_THREADS (torch intra-op
threads, torch.set_num_threads; unset: torch's default).
"""
import argparse
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "reference"))

TOPK = 5


def _load(model_dir, threads):
    import numpy as np
    import torch
    import torchvision.transforms as T
    from st_numpy import torch_model

    if threads:
        torch.set_num_threads(int(threads))
    with open(os.path.join(model_dir, "config.json")) as f:
        conf = json.load(f)
    with open(os.path.join(model_dir, "labels.txt")) as f:
        labels = [ln.rstrip("\n") for ln in f]
    inp = conf["input"]
    net = torch_model(conf["architecture"],
                      os.path.join(model_dir, "model.safetensors"),
                      conf["num_classes"])
    net.eval()
    tf = T.Compose([T.Resize(inp["resize"]),
                    T.CenterCrop((inp["height"], inp["width"])),
                    T.ToTensor(),
                    T.Normalize(inp["mean"], inp["std"])])
    name = conf.get("name") or os.path.basename(os.path.normpath(model_dir))

    def classify(data):
        from PIL import Image
        img = Image.open(io.BytesIO(data)).convert("RGB")
        x = tf(img).unsqueeze(0)
        with torch.no_grad():
            prob = torch.softmax(net(x), dim=1)[0].double().numpy()
        # Stable: ties keep the lower index first, as aiguard does.
        idx = np.argsort(-prob, kind="stable")[:TOPK]
        return [{"index": int(i),
                 "label": labels[i] if i < len(labels) else str(int(i)),
                 "probability": float(prob[i])} for i in idx]

    return name, classify


def create_app(model_dir=None, threads=None):
    from flask import Flask, jsonify, request

    model_dir = (model_dir or os.environ.get("AIGUARD_REF_MODEL")
                 or os.path.join(TOP, "build", "models", "resnet18"))
    threads = threads or os.environ.get("AIGUARD_REF_THREADS") or None
    name, classify = _load(model_dir, threads)

    app = Flask(__name__)

    def error(code, msg):
        r = jsonify({"error": msg})
        r.status_code = code
        return r

    @app.route("/v2/health/ready", methods=["GET"])
    def ready():
        return jsonify({"ready": True})

    @app.route("/v2/health/live", methods=["GET"])
    def live():
        return jsonify({"live": True})

    @app.route("/v2/models/<model>/classify", methods=["POST"])
    def predict(model):
        if model != name:
            return error(404, "unknown model '%s'" % model)
        ctype = (request.mimetype or "").lower()
        if ctype == "multipart/form-data":
            f = request.files.get("file")
            if f is None:
                return error(400, "multipart form without a 'file' field")
            data = f.read()
        elif ctype in ("image/jpeg", "image/png",
                       "application/octet-stream"):
            data = request.get_data()
        else:
            return error(415, "unsupported content type '%s'" % ctype)
        if not data:
            return error(400, "empty body")
        try:
            preds = classify(data)
        except Exception as e:  # undecodable image and the like
            return error(400, "cannot classify: %s" % e)
        return jsonify({"model_name": name, "predictions": preds})

    return app


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--model", default=None, help="model directory")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads")
    a = ap.parse_args()
    app = create_app(a.model, a.threads)
    app.run(host=a.host, port=a.port, threaded=True, debug=False,
            use_reloader=False)


if __name__ == "__main__":
    main()
