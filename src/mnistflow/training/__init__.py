"""The network and how it is trained.

- :mod:`~mnistflow.training.network`      the 784-H-10 network: forward, loss, backward (NumPy only)
- :mod:`~mnistflow.training.optimizers`   SGD with momentum, Adam, the learning-rate schedule
- :mod:`~mnistflow.training.train`        the training loop: epochs, validation, early stopping
- :mod:`~mnistflow.training.batches`      an epoch's batches: shuffled rows, shifted or distorted
- :mod:`~mnistflow.training.shifts`       random shifts of the training images
- :mod:`~mnistflow.training.distort`      elastic and affine distortions, anew each epoch
- :mod:`~mnistflow.training.prefetch`     the next epoch's distortions, made while this one trains
- :mod:`~mnistflow.training.model_file`   ``model.npz``: weights and the recipe that made them
- :mod:`~mnistflow.training.model_card`   a model in words: its recipe, and the data metrics.json records
- :mod:`~mnistflow.training.training_log` ``training_log.csv``: one row per epoch
- :mod:`~mnistflow.training.distortion_examples`  a few digits and their distortions, for the report
- :mod:`~mnistflow.training.engine`       the fast engine: a batch's gradients on several threads
- :mod:`~mnistflow.training.blocks`       how the engine cuts a batch, and so how many threads it uses

The recipe types come from :mod:`mnistflow.settings.presets`. The engine uses the maths
(``network``, ``optimizers``), never the loop.
"""

__all__ = ["batches", "blocks", "distort", "distortion_examples", "engine", "model_card", "model_file",
           "network", "optimizers", "prefetch", "shifts", "train", "training_log"]
