"""The one exception type the expression package raises."""


class ExpressionError(Exception):
    """An expression could not be parsed or evaluated.

    ``column`` is 1-based and counts from the start of the string the user wrote (the whole
    template, ``${`` included), so a form or an API can point at the spot.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def shifted(self, offset: int) -> "ExpressionError":
        """The same error with its column moved right by ``offset`` characters."""
        if self.column is None:
            return self
        moved = type(self)(self.message, self.column + offset)
        moved.__cause__ = self.__cause__
        return moved

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} (column {self.column})"


class LimitExceeded(ExpressionError):
    """An expression went past one of the limits in ``Limits``."""
