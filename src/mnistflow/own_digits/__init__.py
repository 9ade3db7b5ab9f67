"""Your own digits: image files to MNIST-like inputs, classified by a trained model; and that model
as an ONNX graph, and a page to draw digits on, to classify digits anywhere.

- :mod:`~mnistflow.own_digits.image_folder`  the image files of a folder, names on one line (NumPy-free)
- :mod:`~mnistflow.own_digits.image_file`    read an image file, refusing what is not one
- :mod:`~mnistflow.own_digits.images`        preprocess an image as MNIST's digits were
- :mod:`~mnistflow.own_digits._paper`        (private, for images) the paper's brightness under the ink
- :mod:`~mnistflow.own_digits._strokes`      (private, for images) stroke width, and thinning thick strokes
- :mod:`~mnistflow.own_digits.predict`       classify images, and the predictions file
- :mod:`~mnistflow.own_digits.model_info`    which model answered: recipe, sha256, data, test accuracy
- :mod:`~mnistflow.own_digits.predict_page`  the predictions page, with what the network saw
- :mod:`~mnistflow.own_digits.draw_page`     the page to draw a digit on, the network in JavaScript
- :mod:`~mnistflow.own_digits.onnx_file`     the model as an ONNX graph (needs the ``onnx`` extra)
"""

__all__ = ["draw_page", "image_file", "image_folder", "images", "model_info", "onnx_file", "predict",
           "predict_page"]
