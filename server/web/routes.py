"""Every page controller, in one list for the app factory."""

from server.web.admin import AdminController
from server.web.archive import ArchivePagesController
from server.web.class_accounts import ClassAccountsController
from server.web.classes import ClassController
from server.web.family import DiaryController
from server.web.pages import PagesController
from server.web.personal_file_pages import PersonalFileController
from server.web.portfolio_pages import PortfolioController, PortfolioStaffController
from server.web.scales_pages import ScalesController
from server.web.school_lists import SchoolListsController
from server.web.static_files import StaticController
from server.web.transfer_pages import TransferController

WEB_HANDLERS = [
    PagesController,
    DiaryController,
    ClassController,
    AdminController,
    ArchivePagesController,
    PortfolioController,
    PortfolioStaffController,
    PersonalFileController,
    TransferController,
    StaticController,
    SchoolListsController,
    ClassAccountsController,
    ScalesController,
]
