"""Pipeline steps, one per module; converters list them in order."""

from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.clear_hidden_tests import ClearHiddenTests
from grader_service.convert.preprocessors.clear_mark_scheme import ClearMarkScheme
from grader_service.convert.preprocessors.clear_outputs import ClearOutputs
from grader_service.convert.preprocessors.clear_solutions import ClearSolutions
from grader_service.convert.preprocessors.compute_checksums import ComputeChecksums
from grader_service.convert.preprocessors.compute_scores import ComputeScores
from grader_service.convert.preprocessors.execute import Execute
from grader_service.convert.preprocessors.hide_hidden_tests import HideHiddenTests
from grader_service.convert.preprocessors.limit_output import LimitOutput
from grader_service.convert.preprocessors.lock_cells import LockCells
from grader_service.convert.preprocessors.overwrite_cells import OverwriteCells
from grader_service.convert.preprocessors.save_gradebook import SaveGradebook
from grader_service.convert.preprocessors.validate_metadata import ValidateMetadata

__all__ = [
    "ClearHiddenTests",
    "ClearMarkScheme",
    "ClearOutputs",
    "ClearSolutions",
    "ComputeChecksums",
    "ComputeScores",
    "Execute",
    "HideHiddenTests",
    "LimitOutput",
    "LockCells",
    "OverwriteCells",
    "Preprocessor",
    "Resources",
    "SaveGradebook",
    "ValidateMetadata",
]
