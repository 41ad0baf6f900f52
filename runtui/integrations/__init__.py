"""Integrations with training frameworks, and importers from other trackers.

Each submodule imports its framework when it is itself imported, never before: `import runtui` and
`import runtui.integrations` load no framework. A missing framework gives one ImportError naming the extra to install:

- `runtui.integrations.lightning.RuntuiLogger`        (pip install 'runtui[lightning]')
- `runtui.integrations.transformers.RuntuiCallback`   (pip install 'runtui[transformers]')
- `runtui.integrations.keras.RuntuiCallback`          (pip install 'runtui[keras]')
- `runtui.integrations.mlflow_import`                 (`runtui import mlflow`; reads MLflow's store itself)
"""
