"""What can be wrong with an uploaded file, said so that the uploader can act."""

SAVE_AGAIN = (
    "open it in the program that made it, save it again and upload the new file"
)
SUPPORTED = (
    "upload a PDF, a PowerPoint, Keynote or OpenDocument deck, a PNG, JPEG, GIF "
    "or WebP image, an MP4, WebM or MOV video, an HTML page or a ZIP of these"
)


class UnreadableFile(Exception):
    """A file that cannot become slides: why, and what the uploader can do.

    The reason completes "<file> cannot be imported because ..."; the advice
    follows it after a semicolon.
    """

    def __init__(self, reason: str, advice: str, *, needs_password: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.advice = advice
        self.needs_password = needs_password

    def sentence(self, file_name: str) -> str:
        return f"{file_name} cannot be imported because {self.reason}; {self.advice}."
