"""Content of the demo organization: jobs, candidates and their feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portal.orgs.colours import carries_white_text
from portal.security.actors import StaffRole

Rating = Literal["met", "partly_met", "not_yet_met"]
Stage = Literal["applied", "screen", "interview", "final"]
FeedbackState = Literal["published", "draft"]

# Every demo staff account signs in with this password (development only: the demo prints it).
DEMO_STAFF_PASSWORD = "afterword-demo"  # noqa: S105 - printed by the demo on purpose


@dataclass(frozen=True)
class DemoStaff:
    name: str
    email: str
    role: StaffRole
    title: str = ""  # signed under their notes


@dataclass(frozen=True)
class DemoRequirement:
    name: str
    description: str


@dataclass(frozen=True)
class DemoJob:
    key: str
    title: str
    team: str
    location: str
    requirements: tuple[DemoRequirement, ...]


@dataclass(frozen=True)
class DemoAssessment:
    requirement: str
    rating: Rating
    evidence: str
    visible: bool = True


@dataclass(frozen=True)
class DemoStrength:
    text: str
    requirement: str | None = None
    visible: bool = True


@dataclass(frozen=True)
class DemoGrowthArea:
    text: str
    suggestion: str
    requirement: str | None = None
    visible: bool = True
    url: str | None = None  # the suggested resource's page


@dataclass(frozen=True)
class DemoApplication:
    candidate_name: str
    candidate_email: str
    job: str
    stage: Stage
    decided_days_ago: int
    decision_summary: str
    assessments: tuple[DemoAssessment, ...]
    strengths: tuple[DemoStrength, ...]
    growth_areas: tuple[DemoGrowthArea, ...]
    personal_note: str
    reapply_after_months: int | None = None
    suggested_roles: tuple[str, ...] = ()
    # (role, its page) for suggested roles that have one.
    suggested_role_urls: tuple[tuple[str, str], ...] = ()
    pool_invitation_offered: bool = False
    # A draft is feedback a recruiter is still writing: the candidate sees nothing yet.
    state: FeedbackState = "published"
    # The email of the staff member who wrote it.
    author: str | None = None


@dataclass(frozen=True)
class DemoAwaiting:
    """An application that was decided but has no feedback written yet."""

    candidate_name: str
    candidate_email: str
    job: str
    stage: Stage
    decided_days_ago: int


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    slug: str
    display_name: str
    accent_colour: str
    reply_promise_days: int
    jobs: tuple[DemoJob, ...]
    applications: tuple[DemoApplication, ...]
    # "an employer", "a recruitment agency": for the demo's printed guide.
    kind: str = "an employer"
    # In the footer of the candidates' pages.
    privacy_url: str = ""
    contact_email: str = ""
    staff: tuple[DemoStaff, ...] = ()
    awaiting: tuple[DemoAwaiting, ...] = ()


# ---------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------

SENIOR_DATA_ANALYST = DemoJob(
    key="senior-data-analyst",
    title="Senior Data Analyst",
    team="Insights",
    location="Lisbon or remote in the EU",
    requirements=(
        DemoRequirement("SQL", "Writes and tunes analytical queries over large tables"),
        DemoRequirement(
            "Statistics",
            "Designs experiments and chooses, runs and explains the right statistical tests",
        ),
        DemoRequirement(
            "Python for analysis",
            "Cleans, joins and reshapes messy data reproducibly with pandas or similar",
        ),
        DemoRequirement(
            "Data storytelling",
            "Turns an analysis into a clear recommendation for non-technical stakeholders",
        ),
        DemoRequirement(
            "Stakeholder management",
            "Scopes ambiguous questions with product and business partners before starting",
        ),
    ),
)

BACKEND_ENGINEER = DemoJob(
    key="backend-engineer-python",
    title="Backend Engineer (Python)",
    team="Platform",
    location="Berlin or remote in the EU",
    requirements=(
        DemoRequirement("Python", "Writes idiomatic, typed and maintainable Python services"),
        DemoRequirement(
            "API design",
            "Designs consistent HTTP APIs with clear errors, pagination and versioning",
        ),
        DemoRequirement(
            "Databases",
            "Models data in PostgreSQL and reasons about indexes, queries and transactions",
        ),
        DemoRequirement(
            "Testing", "Writes fast, focused unit and integration tests as part of every change"
        ),
        DemoRequirement(
            "System design",
            "Breaks a service into components and plans for load and dependency failures",
        ),
        DemoRequirement(
            "Code review",
            "Gives specific, prioritized review comments and responds well to review",
        ),
    ),
)

CUSTOMER_SUCCESS_MANAGER = DemoJob(
    key="customer-success-manager",
    title="Customer Success Manager",
    team="Customer",
    location="Lisbon (hybrid)",
    requirements=(
        DemoRequirement(
            "Onboarding",
            "Plans and runs onboarding for new B2B accounts through to first value",
        ),
        DemoRequirement(
            "Churn risk",
            "Reads product usage data to spot at-risk accounts and acts before renewal",
        ),
        DemoRequirement(
            "Renewals and expansion",
            "Leads renewal conversations and identifies realistic expansion opportunities",
        ),
        DemoRequirement(
            "Written communication",
            "Writes concise customer emails and meeting summaries with clear next steps",
        ),
        DemoRequirement(
            "Technical fluency",
            "Explains dashboards, data sources and refresh schedules in customer terms",
        ),
    ),
)


# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------

APPLICATIONS: tuple[DemoApplication, ...] = (
    DemoApplication(
        candidate_name="Amara Okafor",
        candidate_email="amara.okafor@example.com",
        job="senior-data-analyst",
        stage="final",
        decided_days_ago=4,
        decision_summary=(
            "Thank you for the time you gave us across four conversations and the take-home "
            "exercise. Your SQL and storytelling were strong throughout. We decided not to make "
            "an offer because this role needs someone who can lead experiment design "
            "independently, and that part of the final interview was not yet at that level."
        ),
        assessments=(
            DemoAssessment(
                "SQL",
                "met",
                "Your take-home queries used window functions correctly and ran in seconds on "
                "the 40-million-row events table.",
            ),
            DemoAssessment(
                "Statistics",
                "partly_met",
                "You chose a suitable test for the pricing experiment but did not check for "
                "sample ratio mismatch before reading the result.",
            ),
            DemoAssessment(
                "Python for analysis",
                "met",
                "Your notebook ran end to end, with each cleaning step in its own small function.",
            ),
            DemoAssessment(
                "Data storytelling",
                "met",
                "Your final presentation opened with a clear recommendation backed by two "
                "well-chosen charts.",
            ),
            DemoAssessment(
                "Stakeholder management",
                "met",
                "In the case interview you asked which decision the analysis would inform "
                "before you started.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your take-home cohort analysis was clearly structured: question, method, result "
                "and caveats, each in its own section.",
                requirement="Data storytelling",
            ),
            DemoStrength(
                "You explained why you used a left join rather than an inner join in the "
                "retention query, which showed careful thinking about missing data.",
                requirement="SQL",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Experiment design and validity checks, especially for tests with uneven "
                "traffic splits.",
                suggestion=(
                    "Read chapters 3 and 21 of 'Trustworthy Online Controlled Experiments' by "
                    "Kohavi, Tang and Xu, which cover sample ratio mismatch and other guardrail "
                    "checks, then redo the pricing question from our take-home with those checks "
                    "added."
                ),
                requirement="Statistics",
            ),
            DemoGrowthArea(
                "Internal: hiring manager preferred someone with prior fintech reporting "
                "experience for this team.",
                suggestion="No candidate action. Flag for the next Insights opening.",
                visible=False,
            ),
        ),
        personal_note=(
            "Amara, thank you for the care you put into every stage, and for the thoughtful "
            "questions you asked our team about data quality.\n\nWe expect another analyst opening "
            "on the Insights team later this year, and I would love to stay in touch until "
            "then.\n\nBest wishes,"
        ),
        author="ines.carvalho@northwind.example",
        pool_invitation_offered=True,
    ),
    DemoApplication(
        candidate_name="Priya Raman",
        candidate_email="priya.raman@example.com",
        job="senior-data-analyst",
        stage="interview",
        decided_days_ago=48,
        decision_summary=(
            "Thank you for interviewing with the Insights team. You communicated findings very "
            "clearly, but this role involves tuning queries on very large tables every day, and "
            "the SQL part of the technical interview showed that this skill is still developing."
        ),
        assessments=(
            DemoAssessment(
                "SQL",
                "partly_met",
                "Your query returned the right answer but scanned the whole events table where a "
                "filter on the partition date would have made it much faster.",
            ),
            DemoAssessment(
                "Statistics",
                "partly_met",
                "You read the A/B result correctly but were unsure how to adjust for two metrics "
                "being tested at once.",
            ),
            DemoAssessment(
                "Data storytelling",
                "met",
                "You summarized the churn analysis in three sentences a sales lead could act on.",
            ),
            DemoAssessment(
                "Stakeholder management",
                "met",
                "You turned the open question 'why is engagement down?' into two testable "
                "questions.",
            ),
        ),
        strengths=(
            DemoStrength(
                "You turned a vague prompt into two specific, testable questions before writing "
                "any SQL, which is how our strongest analysis projects start.",
                requirement="Stakeholder management",
            ),
            DemoStrength(
                "Your churn summary led with the recommendation and kept the method in an "
                "appendix, which made it easy for a non-technical reader to follow.",
                requirement="Data storytelling",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Query performance on large, partitioned tables.",
                suggestion=(
                    "Work through the indexing and partitioning chapters of 'SQL Performance "
                    "Explained' by Markus Winand (also free online as Use The Index, Luke), and "
                    "practice reading the EXPLAIN output for each query you write."
                ),
                requirement="SQL",
                url="https://use-the-index-luke.com/",
            ),
            DemoGrowthArea(
                "Handling multiple comparisons in experiments.",
                suggestion=(
                    "Read the multiple-testing section of 'Practical Statistics for Data "
                    "Scientists' by Bruce, Bruce and Gedeck, then apply a Bonferroni or "
                    "Benjamini-Hochberg correction to a public A/B test dataset."
                ),
                requirement="Statistics",
            ),
        ),
        personal_note=(
            "Priya, it was a pleasure to see how you connect data to real customer questions.\n\n"
            "Your clarity with non-technical audiences came up in every interviewer's notes, so "
            "I have shared your details with Marta on our Customer team in case a role there "
            "interests you.\n\nBest wishes,"
        ),
        author="ines.carvalho@northwind.example",
        reapply_after_months=12,
        suggested_roles=("Customer Success Manager",),
        suggested_role_urls=(
            ("Customer Success Manager", "https://northwind.example/careers/customer-success"),
        ),
    ),
    DemoApplication(
        candidate_name="Priya Raman",
        candidate_email="priya.raman@example.com",
        job="customer-success-manager",
        stage="final",
        decided_days_ago=6,
        decision_summary=(
            "Thank you for going all the way to the final round with us, and for the account "
            "plan you presented. We decided not to make an offer because this role leads "
            "renewal negotiations from the first month, and that part of the final conversation "
            "was not yet at the level the role needs."
        ),
        assessments=(
            DemoAssessment(
                "Onboarding",
                "met",
                "Your 30-60-90 day onboarding plan for the sample account had clear milestones "
                "and owners.",
            ),
            DemoAssessment(
                "Churn risk",
                "met",
                "You spotted the drop in weekly active users in the sample data and proposed a "
                "check-in well before the renewal date.",
            ),
            DemoAssessment(
                "Renewals and expansion",
                "partly_met",
                "In the renewal role-play you explained the value well but did not yet steer the "
                "conversation toward a commitment or next step.",
            ),
            DemoAssessment(
                "Written communication",
                "met",
                "Your follow-up email after the role-play was short, specific and listed clear "
                "next steps.",
            ),
            DemoAssessment(
                "Technical fluency",
                "met",
                "You explained how a dashboard query works using the customer's own metrics as "
                "examples.",
            ),
        ),
        strengths=(
            DemoStrength(
                "You used the sample usage data to flag an at-risk account before we asked, "
                "which is the habit we look for most in this role.",
                requirement="Churn risk",
            ),
            DemoStrength(
                "Your analytics background showed: you explained data sources and refresh "
                "schedules in language a customer could follow.",
                requirement="Technical fluency",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Leading renewal conversations toward a clear commitment.",
                suggestion=(
                    "Practice ending each customer call with one specific ask, such as a date "
                    "for the renewal decision, and review recordings with a peer. 'Getting to "
                    "Yes' by Roger Fisher and William Ury is a good guide to preparing for these "
                    "conversations."
                ),
                requirement="Renewals and expansion",
            ),
        ),
        personal_note=(
            "Priya, thank you for applying again after your analyst interviews, and for how "
            "thoroughly you prepared. The panel especially liked your account plan. We would be "
            "glad to add you to our talent pool so we can contact you first when the next "
            "Customer Success role opens.\n\nBest wishes,"
        ),
        author="marta.sousa@northwind.example",
        pool_invitation_offered=True,
    ),
    DemoApplication(
        candidate_name="Mateo Fernández",
        candidate_email="mateo.fernandez@example.com",
        job="backend-engineer-python",
        stage="applied",
        decided_days_ago=12,
        decision_summary=(
            "Thank you for applying to the Backend Engineer role. After reviewing your "
            "application and code sample, we decided not to move forward because the role needs "
            "day-to-day experience with relational databases, which your application did not "
            "yet show."
        ),
        assessments=(
            DemoAssessment(
                "Python",
                "partly_met",
                "Your code sample was readable but had no type hints or tests, which this role "
                "expects.",
            ),
            DemoAssessment(
                "Databases",
                "not_yet_met",
                "Your application and code sample did not include work with a relational "
                "database such as PostgreSQL.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your command-line tool for renaming photo files was split into small functions "
                "with clear names, which made it easy to review.",
                requirement="Python",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Hands-on experience designing and querying a relational database.",
                suggestion=(
                    "Build a small project backed by PostgreSQL, for example a bookmarks API "
                    "with users and tags, and work through 'The Art of PostgreSQL' by Dimitri "
                    "Fontaine to learn joins, indexes and transactions."
                ),
                requirement="Databases",
            ),
            DemoGrowthArea(
                "Typed, tested Python.",
                suggestion=(
                    "Add type hints checked by mypy and a pytest suite to your code sample; "
                    "'Python Testing with pytest' by Brian Okken is a practical guide."
                ),
                requirement="Python",
            ),
        ),
        personal_note=(
            "Mateo, thank you for sharing your code sample; it is clear you enjoy building "
            "useful tools. Once you have some database work to show, I would be happy to see "
            "your application again.\n\nBest wishes,"
        ),
        author="jonas.weber@northwind.example",
        reapply_after_months=12,
    ),
    DemoApplication(
        candidate_name="Hana Kobayashi",
        candidate_email="hana.kobayashi@example.com",
        job="backend-engineer-python",
        stage="final",
        decided_days_ago=3,
        decision_summary=(
            "Thank you for the time and effort you put into our full interview process. Your "
            "Python, API design and testing were strong. We decided not to make an offer because "
            "the role owns the design of services under high load, and the system design "
            "interview showed this is still a developing area."
        ),
        assessments=(
            DemoAssessment(
                "Python",
                "met",
                "Your pairing-session code was idiomatic, fully typed and passed mypy in strict "
                "mode.",
            ),
            DemoAssessment(
                "API design",
                "met",
                "You designed paginated endpoints with consistent error responses and a clear "
                "versioning plan.",
            ),
            DemoAssessment(
                "Databases",
                "met",
                "You chose a suitable composite index for the orders query and explained its "
                "cost on writes.",
            ),
            DemoAssessment(
                "Testing",
                "met",
                "You wrote tests first for the refund logic and kept them fast by replacing the "
                "payment client with a fake.",
            ),
            DemoAssessment(
                "System design",
                "partly_met",
                "Your design handled the normal flow well but did not yet cover what happens "
                "when the message queue is unavailable.",
            ),
            DemoAssessment(
                "Code review",
                "met",
                "Your review of our sample pull request was specific and put the two most "
                "important issues first.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your review comments on the sample pull request explained the why behind each "
                "change and suggested a concrete fix, which is the standard we aim for.",
                requirement="Code review",
            ),
            DemoStrength(
                "Writing the refund tests before the code helped you find an edge case with "
                "partial refunds that our own reference solution had missed.",
                requirement="Testing",
            ),
            DemoStrength(
                "Internal: panel recommends contacting this candidate about the Data Platform "
                "opening planned for Q3.",
                visible=False,
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Designing for failure in distributed systems.",
                suggestion=(
                    "Read chapters 8 and 11 of 'Designing Data-Intensive Applications' by Martin "
                    "Kleppmann, on distributed-system faults and stream processing, then sketch "
                    "how a service you know would behave if each of its dependencies went down."
                ),
                requirement="System design",
            ),
        ),
        personal_note=(
            "Hana, thank you for a genuinely enjoyable final round; the team is still talking "
            "about your code review exercise. We would love to keep you in our talent pool and "
            "contact you about future Platform roles.\n\nBest wishes,"
        ),
        author="jonas.weber@northwind.example",
        pool_invitation_offered=True,
    ),
    DemoApplication(
        candidate_name="Sofia Lindqvist",
        candidate_email="sofia.lindqvist@example.com",
        job="senior-data-analyst",
        stage="screen",
        decided_days_ago=20,
        decision_summary=(
            "Thank you for speaking with us. Your SQL answers were strong, but this role "
            "involves designing and reading experiments every week, and the statistics questions "
            "in the screening call showed this is still an area to develop."
        ),
        assessments=(
            DemoAssessment(
                "SQL",
                "met",
                "You wrote a correct running-total query with a window function during the call.",
            ),
            DemoAssessment(
                "Statistics",
                "not_yet_met",
                "You were not yet able to explain when a p-value would or would not support "
                "shipping a change.",
            ),
            DemoAssessment(
                "Python for analysis",
                "partly_met",
                "You described cleaning data with pandas but had not yet joined or reshaped "
                "datasets with it.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your window-function answer was correct on the first attempt, and you explained "
                "each clause as you wrote it.",
                requirement="SQL",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Foundations of hypothesis testing for product experiments.",
                suggestion=(
                    "Complete the significance tests unit of Khan Academy's Statistics and "
                    "Probability course, then read chapters 1 to 3 of 'Trustworthy Online "
                    "Controlled Experiments' by Kohavi, Tang and Xu."
                ),
                requirement="Statistics",
            ),
            DemoGrowthArea(
                "Joining and reshaping data in pandas.",
                suggestion=(
                    "Work through chapters 8 and 10 of 'Python for Data Analysis' (3rd edition) "
                    "by Wes McKinney, which cover joins, reshaping and group operations."
                ),
                requirement="Python for analysis",
            ),
        ),
        personal_note=(
            "Sofia, thank you for preparing so thoroughly for our call; your SQL walk-through "
            "was one of the clearest we have heard this year. Once you have built more "
            "experience with experiment statistics, we would be glad to hear from you again. "
            "\n\nBest wishes,"
        ),
        author="ines.carvalho@northwind.example",
        reapply_after_months=6,
    ),
    DemoApplication(
        candidate_name="Daniel Cohen",
        candidate_email="daniel.cohen@example.com",
        job="backend-engineer-python",
        stage="screen",
        decided_days_ago=27,
        decision_summary=(
            "Thank you for the technical screen with our Platform team. Your Python was solid. "
            "We decided not to move forward because automated testing is central to how the team "
            "ships, and the screen showed limited hands-on experience with it."
        ),
        assessments=(
            DemoAssessment(
                "Python",
                "met",
                "You refactored the sample function into clear, typed helpers within the time box.",
            ),
            DemoAssessment(
                "API design",
                "partly_met",
                "Your endpoint design was sensible but returned status 200 for errors instead of "
                "a matching 4xx code.",
            ),
            DemoAssessment(
                "Testing",
                "not_yet_met",
                "When asked how you would test the refactored function, you described manual "
                "checks rather than automated tests.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your refactor split one 80-line function into four typed helpers without "
                "changing its behavior.",
                requirement="Python",
            ),
            DemoStrength(
                "You talked through your reasoning as you worked, which made the session easy "
                "to follow.",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Writing automated unit and integration tests.",
                suggestion=(
                    "Work through 'Python Testing with pytest' by Brian Okken and add a test "
                    "suite to one of your own projects, aiming for tests that run in a few "
                    "seconds."
                ),
                requirement="Testing",
            ),
            DemoGrowthArea(
                "Using HTTP status codes and error bodies consistently.",
                suggestion=(
                    "Read the HTTP status code sections of the Zalando RESTful API Guidelines "
                    "and RFC 9457 (Problem Details for HTTP APIs), then update an API you have "
                    "built to follow them."
                ),
                requirement="API design",
            ),
        ),
        personal_note=(
            "Daniel, thank you for a thoughtful screen; your refactoring was clean and easy to "
            "follow. With some testing practice, you would be well placed for a role like this, "
            "and I hope you will apply again.\n\nBest wishes,"
        ),
        author="jonas.weber@northwind.example",
        reapply_after_months=6,
    ),
    DemoApplication(
        candidate_name="Aisha Rahman",
        candidate_email="aisha.rahman@example.com",
        job="senior-data-analyst",
        stage="applied",
        decided_days_ago=9,
        decision_summary=(
            "Thank you for applying to the Senior Data Analyst role. We decided not to move "
            "forward because the role needs hands-on SQL and Python with large datasets, and "
            "your application showed that most of your analysis so far has been in spreadsheets."
        ),
        assessments=(
            DemoAssessment(
                "SQL",
                "partly_met",
                "Your application mentions basic SELECT queries but not joins or aggregations "
                "over large tables.",
            ),
            DemoAssessment(
                "Python for analysis",
                "not_yet_met",
                "Your application did not include analysis work in Python or a similar language.",
            ),
            DemoAssessment(
                "Data storytelling",
                "met",
                "Your portfolio's monthly sales report led with a clear summary and "
                "well-labeled charts.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your monthly sales report opened with the three numbers that mattered and "
                "explained each one in a sentence.",
                requirement="Data storytelling",
            ),
            DemoStrength(
                "Your regional forecast spreadsheet listed every assumption on a separate tab, "
                "which made the model easy to check.",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Analytical SQL with joins, aggregations and window functions.",
                suggestion=(
                    "Complete Mode's free SQL Tutorial from the basic through the advanced "
                    "sections, then rebuild one of your spreadsheet reports as a SQL query."
                ),
                requirement="SQL",
            ),
            DemoGrowthArea(
                "Data analysis in Python.",
                suggestion=(
                    "Work through the first six chapters of 'Python for Data Analysis' by Wes "
                    "McKinney and move one spreadsheet workflow into a pandas notebook."
                ),
                requirement="Python for analysis",
            ),
        ),
        personal_note=(
            "Aisha, thank you for applying and for sharing such a clear portfolio. Your "
            "reporting work is a great foundation, and our Junior Data Analyst role would let "
            "you build SQL and Python skills with mentoring from the Insights team. "
            "\n\nBest wishes,"
        ),
        author="ines.carvalho@northwind.example",
        suggested_roles=("Junior Data Analyst",),
        suggested_role_urls=(
            ("Junior Data Analyst", "https://northwind.example/careers/junior-data-analyst"),
        ),
    ),
    DemoApplication(
        candidate_name="Lucas Almeida",
        candidate_email="lucas.almeida@example.com",
        job="customer-success-manager",
        stage="interview",
        decided_days_ago=15,
        decision_summary=(
            "Thank you for interviewing with our Customer team. Your onboarding experience came "
            "through clearly. We decided not to move forward because the role depends on "
            "spotting at-risk accounts from usage data, and the case exercise showed this is "
            "still a developing skill."
        ),
        assessments=(
            DemoAssessment(
                "Onboarding",
                "met",
                "You described a structured kickoff for a 200-seat account, with success "
                "criteria agreed in the first week.",
            ),
            DemoAssessment(
                "Churn risk",
                "not_yet_met",
                "In the case exercise you did not yet use the usage data to identify which of "
                "the three accounts was at risk.",
            ),
            DemoAssessment(
                "Renewals and expansion",
                "met",
                "You gave a concrete example of turning a support escalation into an expansion "
                "conversation.",
            ),
            DemoAssessment(
                "Written communication",
                "partly_met",
                "Your summary email covered the key points, but the next steps were hard to find "
                "at the end of a long message.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your kickoff checklist for new accounts was specific enough that our team asked "
                "to borrow parts of it.",
                requirement="Onboarding",
            ),
            DemoStrength(
                "Your story about turning a support escalation into a 40-seat expansion showed "
                "you listen for the customer's next goal, not only the current problem.",
                requirement="Renewals and expansion",
            ),
            DemoStrength(
                "Internal: interviewers suggest contacting this candidate if the Onboarding "
                "Specialist role is approved.",
                visible=False,
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Reading product usage data to spot accounts at risk of churning.",
                suggestion=(
                    "Practice building a simple churn-risk score for three sample accounts from "
                    "weekly active users, feature adoption and open support tickets. 'Customer "
                    "Success' by Nick Mehta, Dan Steinman and Lincoln Murphy covers "
                    "account scoring in detail."
                ),
                requirement="Churn risk",
            ),
            DemoGrowthArea(
                "Keeping customer emails short, with next steps easy to find.",
                suggestion=(
                    "Read 'Writing for Busy Readers' by Todd Rogers and Jessica Lasky-Fink, and "
                    "try putting the next steps in the first three lines of each summary email."
                ),
                requirement="Written communication",
            ),
        ),
        personal_note=(
            "Lucas, thank you for the detailed onboarding stories you shared; our team learned "
            "something from your kickoff checklist. I hope you will apply again once you have "
            "had more hands-on work with usage data.\n\nBest wishes,"
        ),
        author="marta.sousa@northwind.example",
        reapply_after_months=12,
    ),
    DemoApplication(
        candidate_name="Nadia Petrović",
        candidate_email="nadia.petrovic@example.com",
        job="backend-engineer-python",
        stage="interview",
        decided_days_ago=33,
        decision_summary=(
            "Thank you for interviewing with the Platform team. Your Python and database work "
            "were strong. We decided not to move forward because the role involves designing "
            "services end to end, and the system design interview showed this is still an area "
            "to develop."
        ),
        assessments=(
            DemoAssessment(
                "Python",
                "met",
                "Your rate-limiter solution was correct, typed and covered by tests you added "
                "unprompted.",
            ),
            DemoAssessment(
                "Databases",
                "met",
                "You spotted the N+1 query in the sample code and replaced it with a single join.",
            ),
            DemoAssessment(
                "API design",
                "partly_met",
                "Your endpoints were consistent but the notification list had no pagination.",
            ),
            DemoAssessment(
                "System design",
                "not_yet_met",
                "You did not yet split the notification service into components or discuss how "
                "it would handle a traffic spike.",
            ),
        ),
        strengths=(
            DemoStrength(
                "You found the N+1 query in the sample code within minutes and explained its "
                "cost in terms of round trips to the database.",
                requirement="Databases",
            ),
            DemoStrength(
                "You added tests to the rate-limiter exercise without being asked, including "
                "one for the window boundary.",
                requirement="Python",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Breaking a service into components and planning for load.",
                suggestion=(
                    "Read 'System Design Interview' (volume 1) by Alex Xu, especially chapter 1 "
                    "on scaling and chapter 10 on notification systems, and practice sketching a "
                    "design in 20 minutes before comparing it with the book's."
                ),
                requirement="System design",
            ),
            DemoGrowthArea(
                "Designing list endpoints that scale.",
                suggestion=(
                    "Read AIP-158 (Pagination) in Google's API Improvement Proposals and add "
                    "cursor-based pagination to an API you have built."
                ),
                requirement="API design",
            ),
            DemoGrowthArea(
                "Internal: hiring manager preferred someone with prior on-call experience for "
                "this team.",
                suggestion="No candidate action.",
                visible=False,
            ),
        ),
        personal_note=(
            "Nadia, thank you for such a well-prepared interview; your fix for the N+1 query was "
            "exactly the kind of practical thinking our team values. I hope you will apply again "
            "once you have had more chance to design services end to end.\n\nBest wishes,"
        ),
        author="jonas.weber@northwind.example",
        reapply_after_months=12,
    ),
    DemoApplication(
        candidate_name="Wei Zhang",
        candidate_email="wei.zhang@example.com",
        job="customer-success-manager",
        stage="screen",
        decided_days_ago=22,
        decision_summary=(
            "Thank you for your screening call with our Customer team. Your written "
            "communication was strong. We decided not to move forward at this stage because the "
            "role needs confidence explaining data concepts to customers, and the call showed "
            "this is still developing."
        ),
        assessments=(
            DemoAssessment(
                "Written communication",
                "met",
                "Your cover letter and follow-up email were concise and well structured.",
            ),
            DemoAssessment(
                "Technical fluency",
                "not_yet_met",
                "When asked what a data source refresh is, you were not yet able to describe it "
                "in customer terms.",
            ),
            DemoAssessment(
                "Renewals and expansion",
                "partly_met",
                "You described renewals you supported, though someone else led the negotiation "
                "itself.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your follow-up email summarized our call in five bullet points with one clear "
                "question, which is the style we aim for with customers.",
                requirement="Written communication",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Explaining basic data and analytics concepts in plain language.",
                suggestion=(
                    "Take Google's 'Foundations: Data, Data, Everywhere' course on Coursera "
                    "(free to audit), then practice explaining dashboards, data sources and "
                    "refresh schedules to someone outside tech."
                ),
                requirement="Technical fluency",
            ),
            DemoGrowthArea(
                "Leading a renewal conversation yourself.",
                suggestion=(
                    "Ask to lead one renewal call in your current role with your manager's "
                    "support, and prepare a one-page value summary: goals agreed at onboarding, "
                    "results achieved and the plan for next year."
                ),
                requirement="Renewals and expansion",
            ),
        ),
        personal_note=(
            "Wei, thank you for your time and for such a clear written follow-up. We would like "
            "to invite you to our talent pool, and we will contact you when a role that matches "
            "your strengths opens.\n\nBest wishes,"
        ),
        author="marta.sousa@northwind.example",
        pool_invitation_offered=True,
    ),
    DemoApplication(
        candidate_name="Kwame Mensah",
        candidate_email="kwame.mensah@example.com",
        job="customer-success-manager",
        stage="applied",
        decided_days_ago=10,
        decision_summary=(
            "Thank you for applying to the Customer Success Manager role. We decided not to move "
            "forward because the role owns onboarding and renewals for a portfolio of accounts, "
            "and your application focused on technical support rather than account ownership."
        ),
        assessments=(
            DemoAssessment(
                "Onboarding",
                "not_yet_met",
                "Your application did not include examples of running onboarding for a new "
                "customer account.",
            ),
            DemoAssessment(
                "Renewals and expansion",
                "not_yet_met",
                "Your application did not describe involvement in renewal or expansion "
                "conversations.",
            ),
            DemoAssessment(
                "Technical fluency",
                "met",
                "Your description of troubleshooting customers' API integrations shows strong "
                "technical depth.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your troubleshooting guide for the API cut repeat tickets on that topic, which "
                "shows real care for customers' time.",
                requirement="Technical fluency",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Owning a customer's onboarding from kickoff to first value.",
                suggestion=(
                    "Offer to co-run onboarding for a few new accounts in your current team, "
                    "using a simple plan: a kickoff call, agreed success criteria and a 30-day "
                    "check-in."
                ),
                requirement="Onboarding",
            ),
            DemoGrowthArea(
                "Experience with renewals and commercial conversations.",
                suggestion=(
                    "Read 'Getting to Yes' by Roger Fisher and William Ury, and ask to shadow "
                    "your account managers on a few renewal calls."
                ),
                requirement="Renewals and expansion",
            ),
        ),
        personal_note=(
            "Kwame, thank you for applying. Your API troubleshooting work stood out, and our "
            "Support Engineer role is a strong match for those skills. I would be glad to pass "
            "your application on if you are interested.\n\nBest wishes,"
        ),
        author="marta.sousa@northwind.example",
        suggested_roles=("Support Engineer",),
    ),
    DemoApplication(
        candidate_name="Elena Rossi",
        candidate_email="elena.rossi@example.com",
        job="backend-engineer-python",
        stage="applied",
        decided_days_ago=58,
        decision_summary=(
            "Thank you for applying to the Backend Engineer role. We decided not to move forward "
            "because the role needs experience building and running HTTP services in Python, "
            "and your application focused mainly on data science notebooks."
        ),
        assessments=(
            DemoAssessment(
                "Python",
                "partly_met",
                "Your notebooks show solid Python, but not yet in a packaged, tested service.",
            ),
            DemoAssessment(
                "API design",
                "not_yet_met",
                "Your application did not include an HTTP API you had designed or maintained.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your churn-prediction notebook was carefully organized, with a short README "
                "explaining how to reproduce each result.",
                requirement="Python",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Designing and running an HTTP service.",
                suggestion=(
                    "Follow the FastAPI tutorial to build a small service that serves one of "
                    "your models, with input validation, a status endpoint and basic "
                    "logging."
                ),
                requirement="API design",
            ),
            DemoGrowthArea(
                "Structuring Python as an application rather than a notebook.",
                suggestion=(
                    "Read 'Architecture Patterns with Python' by Harry Percival and Bob Gregory "
                    "(free at cosmicpython.com) and restructure one notebook into a package "
                    "with tests."
                ),
                requirement="Python",
            ),
        ),
        personal_note=(
            "Elena, thank you for applying and for sharing your notebooks; the README on your "
            "churn project was a pleasure to read. Once you have a service or two to show, I "
            "would be glad to see your application again.\n\nBest wishes,"
        ),
        author="jonas.weber@northwind.example",
        reapply_after_months=6,
    ),
)


# Feedback still being written: a recruiter sees it, the candidate does not (yet).
DRAFTS: tuple[DemoApplication, ...] = (
    DemoApplication(
        candidate_name="Tomás Silva",
        candidate_email="tomas.silva@example.com",
        job="backend-engineer-python",
        stage="interview",
        decided_days_ago=2,
        state="draft",
        decision_summary=(
            "Thank you for the technical interview with the Platform team. Your API design "
            "was thoughtful and your tests were quick and focused. We decided not to move "
            "forward because the role owns a PostgreSQL-heavy service, and the database part "
            "of the interview showed gaps in how you reason about indexes and transactions."
        ),
        assessments=(
            DemoAssessment(
                "API design",
                "met",
                "Your order-history endpoint had cursor pagination, clear error bodies and a "
                "version in the path, all without prompting.",
            ),
            DemoAssessment(
                "Testing",
                "met",
                "You wrote a failing test before fixing the off-by-one bug in the exercise.",
            ),
            DemoAssessment(
                "Databases",
                "not_yet_met",
                "You proposed an index on every column of the orders table and were unsure "
                "what isolation level the transfer exercise needed.",
            ),
        ),
        strengths=(
            DemoStrength(
                "You reproduced the off-by-one bug with a failing test before touching the "
                "code, which is exactly how we like changes to start.",
                requirement="Testing",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Choosing indexes and isolation levels in PostgreSQL.",
                suggestion=(
                    "Work through the indexing chapters of 'Use The Index, Luke' and the "
                    "PostgreSQL manual's chapter on transaction isolation, then explain, for "
                    "one of your own projects, which index each slow query uses."
                ),
                requirement="Databases",
            ),
        ),
        personal_note=(
            "Tomás, thank you for a relaxed and thoughtful interview. (Draft: add a line about "
            "the Developer Experience role once it is approved.)\n\nBest wishes,"
        ),
        reapply_after_months=9,
        author="jonas.weber@northwind.example",
    ),
)

# Decided, but nobody has written the feedback yet.
AWAITING: tuple[DemoAwaiting, ...] = (
    DemoAwaiting(
        candidate_name="Yuki Nakamura",
        candidate_email="yuki.nakamura@example.com",
        job="senior-data-analyst",
        stage="screen",
        decided_days_ago=1,
    ),
    DemoAwaiting(
        candidate_name="Omar Haddad",
        candidate_email="omar.haddad@example.com",
        job="customer-success-manager",
        stage="applied",
        decided_days_ago=3,
    ),
)

STAFF: tuple[DemoStaff, ...] = (
    DemoStaff(
        "Joana Ferreira", "joana.ferreira@northwind.example", StaffRole.ADMIN, "Head of Talent"
    ),
    DemoStaff(
        "Inês Carvalho", "ines.carvalho@northwind.example", StaffRole.RECRUITER, "Senior Recruiter"
    ),
    DemoStaff("Marta Sousa", "marta.sousa@northwind.example", StaffRole.RECRUITER, "Recruiter"),
    DemoStaff(
        "Jonas Weber", "jonas.weber@northwind.example", StaffRole.RECRUITER, "Technical Recruiter"
    ),
)


ORGANIZATION: DemoOrganization = DemoOrganization(
    name="Northwind Analytics",
    slug="northwind",
    display_name="Northwind Analytics",
    accent_colour="#1f4e79",
    reply_promise_days=5,
    jobs=(SENIOR_DATA_ANALYST, BACKEND_ENGINEER, CUSTOMER_SUCCESS_MANAGER),
    applications=APPLICATIONS + DRAFTS,
    kind="an employer",
    staff=STAFF,
    awaiting=AWAITING,
    privacy_url="https://northwind.example/privacy/candidates",
    contact_email="careers@northwind.example",
)


def validate(org: DemoOrganization = ORGANIZATION) -> None:
    """Raise ValueError if the content is inconsistent (unknown job key, unknown requirement
    name, duplicate job keys, an email used with two different names, an author who is not
    on the staff, two staff accounts with one address, a link for a role not suggested, an
    accent colour too light for white text)."""
    if not carries_white_text(org.accent_colour):
        raise ValueError(f"{org.slug}: white text on {org.accent_colour} is too faint")
    jobs: dict[str, DemoJob] = {}
    for job in org.jobs:
        if job.key in jobs:
            raise ValueError(f"duplicate job key: {job.key!r}")
        jobs[job.key] = job

    staff_emails = [member.email for member in org.staff]
    if len(set(staff_emails)) != len(staff_emails):
        raise ValueError(f"{org.slug}: two staff accounts share an email address")

    names_by_email: dict[str, str] = {}

    def same_person(email: str, name: str) -> None:
        email = email.strip().lower()
        previous = names_by_email.setdefault(email, name)
        if previous != name:
            raise ValueError(f"email {email!r} used with two names: {previous!r} and {name!r}")

    for waiting in org.awaiting:
        if waiting.job not in jobs:
            raise ValueError(f"{waiting.candidate_name}: unknown job key {waiting.job!r}")
        same_person(waiting.candidate_email, waiting.candidate_name)

    for application in org.applications:
        who = f"{application.candidate_name} ({application.job})"
        found = jobs.get(application.job)
        if found is None:
            raise ValueError(f"{who}: unknown job key {application.job!r}")
        if application.author is not None and application.author not in staff_emails:
            raise ValueError(f"{who}: author {application.author!r} is not on the staff")

        known = {requirement.name for requirement in found.requirements}
        referenced = [assessment.requirement for assessment in application.assessments]
        items: tuple[DemoStrength | DemoGrowthArea, ...] = (
            *application.strengths,
            *application.growth_areas,
        )
        referenced += [item.requirement for item in items if item.requirement is not None]
        for name in referenced:
            if name not in known:
                raise ValueError(f"{who}: unknown requirement {name!r} for job {found.key!r}")
        same_person(application.candidate_email, application.candidate_name)
        for role, _url in application.suggested_role_urls:
            if role not in application.suggested_roles:
                raise ValueError(f"{who}: a link for {role!r}, which is not a suggested role")


@dataclass(frozen=True)
class DemoScorecard:
    """An interviewer's scorecard on an application still waiting for its feedback, to
    draft it from (docs/staff/drafting.md): (attribute, rating, note, private) and
    (question, answer, private)."""

    candidate_email: str
    interviewer: str
    step: str
    days_ago: int
    recommendation: str
    attributes: tuple[tuple[str, str, str, bool], ...]
    questions: tuple[tuple[str, str, bool], ...] = ()


SCORECARDS: tuple[DemoScorecard, ...] = (
    DemoScorecard(
        candidate_email="yuki.nakamura@example.com",
        interviewer="Inês Carvalho",
        step="Technical screen",
        days_ago=4,
        recommendation="no",
        attributes=(
            (
                "SQL",
                "strong_yes",
                "Wrote the retention query with a window function on the first try. "
                "Explained why the index on event_date made it fast.",
                False,
            ),
            (
                "Statistics",
                "no",
                "Chose a t-test for conversion rates without checking the sample size. "
                "Could not say how long the experiment would need to run.",
                False,
            ),
            ("Data storytelling", "mixed", "Seemed nervous when presenting.", True),
        ),
        questions=(("Salary expectations", "Above the band for this level.", True),),
    ),
    DemoScorecard(
        candidate_email="yuki.nakamura@example.com",
        interviewer="Jonas Weber",
        step="Case study",
        days_ago=2,
        recommendation="no",
        attributes=(
            (
                "Python for analysis",
                "yes",
                "Cleaned the messy export with pandas and kept every step in a notebook "
                "that re-ran from scratch.",
                False,
            ),
            (
                "Statistics",
                "definitely_not",
                "Read a p-value of 0.08 as proof that the new checkout worked.",
                False,
            ),
            (
                "Data storytelling",
                "yes",
                "Opened the case study with the recommendation and one chart that supported it.",
                False,
            ),
        ),
    ),
)
