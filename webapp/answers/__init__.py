"""Answers that outlive the page: generated in the background, followed anywhere.

The small surface the chat page uses (see `service.AnswerService`):

    answers.admit(member)                            # may one start? (else AnswerRefused)
    answers.submit(member, conversation_id, prompt)  # save it; answer now or queue it
    answers.start(member, conversation_id)           # answer the last prompt (Retry)
    answers.follow(member, answer_id, on_tick)       # text so far, then live (write_stream)
    answers.stop(member, answer_id, keep_chars)      # now; saved as seen
    answers.live(answer_id)                          # status here: text, Wait, end

Before it streams, an answer takes one of the team's slots (`slots.TeamSlots`
over `webapp.answers.slots_store`: the limit on simultaneous answers across every app
process, `ABLT_MAX_CONCURRENT_ANSWERS`); beyond it, it waits in line
(`Wait("line")`: "waiting for a free slot (number 2 in line)"), and Stop ends the wait.

`admit` is the one admission point (`admission`: the month's budget now, as
a list of rules): `submit` and `start` take its ticket (`admission=`), or ask
for one themselves before saving anything; the worker asks before it starts
a queued prompt. Pages only show the refusal (`AnswerRefused.reason`).

Generation belongs to the process, never to a script run: a rerun, a page or
chat switch, a reload or a closed tab detaches a page, and the answer goes on.
"""

from webapp.answers.admission import Admission, AdmissionRequest, AdmissionRule, AnswerRefused
from webapp.answers.live import LiveAnswer, Wait, describe_wait
from webapp.answers.service import AnswerService, Submitted

__all__ = [
    "Admission",
    "AdmissionRequest",
    "AdmissionRule",
    "AnswerRefused",
    "AnswerService",
    "LiveAnswer",
    "Submitted",
    "Wait",
    "describe_wait",
]
